package io.pgrelay.agent.http;

import java.util.List;

/**
 * The body of {@code GET /status}. Every field is always present; a value not known is null.
 * Never holds a secret.
 */
public record AgentStatus(String agent, String cluster, String role, String leader, Long epoch, String mode,
                          Slot slot, Lag lag, Positions positions, List<Alert> alerts, String version,
                          long uptimeSeconds, String http, Snapshot snapshot) {

    /** The snapshot in progress or last finished; {@code active} false once every table is done. */
    public record Snapshot(boolean active, List<SnapshotTable> tables) {
    }

    /**
     * @param state         {@code queued}, {@code running} or {@code done}
     * @param estimatedRows {@code pg_class.reltuples} when the table started; null when unknown
     */
    public record SnapshotTable(String table, String state, long rowsSent, Long estimatedRows, String note) {
    }

    /**
     * @param missing true while the agents refuse to stream because the cluster's slot is gone (missing, or
     *                a slot of that name created anew), null when the slot could not be looked at
     * @param problem why the agents refuse to stream from the slot (missing, lost, created anew), else null
     * @param failover whether the slot would survive a promotion of a physical standby; null while not known
     */
    public record Slot(String name, Boolean active, Integer activePid, String confirmedFlushLsn, String restartLsn,
                       String walStatus, Long retainedBytes, Boolean missing, String problem, Failover failover) {
    }

    /**
     * PostgreSQL 17 failover slots: {@code ready} when a promoted standby would have the slot, synced
     * and not behind what the agents were sent; otherwise each problem says what to set.
     *
     * @param syncedOn standbys ({@code host:port}) holding a synced copy; null when {@code postgres.url}
     *                 names none that answered
     */
    public record Failover(boolean ready, List<String> problems, List<String> syncedOn) {
    }

    public record Lag(Long bytes, Double seconds) {
    }

    public record Positions(String received, String flushed, String committed) {
    }

    public record Alert(String name, String severity, String summary, String since) {
    }
}
