package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;

/**
 * One workload already written to PostgreSQL, waiting in a slot that was created before the rows,
 * so the candidate draining it must decode every one of them.
 *
 * @param table       the table the rows went to ({@code public.…})
 * @param publication the publication over that table, shared by every candidate
 * @param slot        the candidate's own slot
 * @param rows        how many rows were inserted
 * @param endLsn      the WAL insert position right after the workload's last commit
 */
record Backlog(Sandbox sandbox, String table, String publication, String slot, long rows, long endLsn) {
}
