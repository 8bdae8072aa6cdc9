package io.pgrelay.agent.postgres;

import io.pgrelay.agent.core.Lsn;

/**
 * A replication slot as {@code pg_replication_slots} shows it. Values PostgreSQL does not know are
 * null: {@code activePid} when inactive, {@code walStatus} before PostgreSQL 13, the LSNs of a slot
 * that never reserved WAL.
 *
 * @param retainedBytes WAL the server keeps for this slot: {@code pg_current_wal_lsn() - restart_lsn}
 */
public record SlotState(String name, String plugin, String slotType, String database, boolean active, Integer activePid,
                        Lsn confirmedFlushLsn, Lsn restartLsn, String walStatus, Long retainedBytes) {

    public boolean isLogical() {
        return "logical".equals(slotType);
    }

    /** The server removed WAL this slot still needed: what it would stream now has a hole. */
    public boolean walLost() {
        return "lost".equals(walStatus);
    }
}
