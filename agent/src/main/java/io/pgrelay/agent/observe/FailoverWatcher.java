package io.pgrelay.agent.observe;

import io.pgrelay.agent.postgres.FailoverSlots;
import io.pgrelay.agent.postgres.PgConnections;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * Every interval, on every agent, whether the slot would survive a promotion of a standby
 * ({@link FailoverSlots}) — for {@code /status}. Seldom: the answer changes only when someone
 * reconfigures PostgreSQL or a standby goes away, and asking it opens a connection to each standby.
 */
public final class FailoverWatcher extends PeriodicQuery {

    static final Duration INTERVAL = Duration.ofSeconds(10);

    private final PgConnections connections;
    private final String slot;
    /** The last answer; null before the first and after a failed look (not known). */
    private volatile FailoverSlots.Readiness latest;

    public FailoverWatcher(PgConnections connections, String slot) {
        super(connections, INTERVAL, "pgrelay-failover-watcher", "slot " + slot + ": cannot tell whether it survives a promotion");
        this.connections = connections;
        this.slot = slot;
    }

    public FailoverSlots.Readiness latest() {
        return latest;
    }

    @Override
    protected void run(Connection connection) throws SQLException {
        latest = FailoverSlots.inspect(connection, connections, slot);
    }

    @Override
    protected void failed(Exception e) {
        latest = null;
    }
}
