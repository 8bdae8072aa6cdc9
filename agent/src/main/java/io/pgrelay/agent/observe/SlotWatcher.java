package io.pgrelay.agent.observe;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.postgres.PgConnections;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * Reads the slot's state from {@code pg_replication_slots} every poll interval, on every agent,
 * leader or not — so lag, retained WAL and slot activity are known while no agent leads.
 *
 * <p>Lag in seconds is how long ago the server's WAL end was where the slot's confirmed position
 * is now, from a history of samples: it needs no clock on the client side and works idle or busy.
 */
public final class SlotWatcher extends PeriodicQuery {

    private static final Logger log = LoggerFactory.getLogger(SlotWatcher.class);
    private static final String QUERY = "SELECT active, active_pid, confirmed_flush_lsn::text, restart_lsn::text, wal_status, "
            + "(pg_current_wal_lsn() - confirmed_flush_lsn)::bigint, (pg_current_wal_lsn() - restart_lsn)::bigint, "
            + "pg_current_wal_lsn()::text FROM pg_replication_slots WHERE slot_name = ?";
    private static final int HISTORY = 4096;

    /** What the last look at the slot showed; {@code exists} false when there is no such slot. */
    public record SlotSnapshot(boolean reachable, boolean exists, boolean active, Integer activePid, Lsn confirmedFlushLsn,
                        Lsn restartLsn, String walStatus, Long lagBytes, Long retainedBytes, Double lagSeconds,
                        long sampledAtMillis) {
        public static final SlotSnapshot UNKNOWN = new SlotSnapshot(false, false, false, null, null, null, null, null, null, null, 0);
    }

    private record Sample(long nanos, long walEnd) {
    }

    private final String slot;
    private final Consumer<SlotSnapshot> onSample;
    private final Deque<Sample> history = new ArrayDeque<>(); // only the watcher thread touches it
    private volatile SlotSnapshot latest = SlotSnapshot.UNKNOWN;

    /** @param onSample told every look at the slot, on the watcher's thread (alerts are evaluated there) */
    public SlotWatcher(PgConnections connections, String slot, Duration interval, Consumer<SlotSnapshot> onSample) {
        super(connections, interval, "pgrelay-slot-watcher", "slot " + slot + ": cannot read its state");
        this.slot = slot;
        this.onSample = onSample;
    }

    public SlotSnapshot latest() {
        return latest;
    }

    @Override
    protected void run(Connection connection) throws SQLException {
        latest = sample(connection);
        evaluate();
    }

    @Override
    protected void failed(Exception e) {
        latest = SlotSnapshot.UNKNOWN;
        evaluate();
    }

    private void evaluate() {
        try {
            onSample.accept(latest);
        } catch (RuntimeException e) {
            log.warn("slot {}: evaluating the slot's state failed: {}", slot, e.toString());
        }
    }

    private SlotSnapshot sample(Connection connection) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(QUERY)) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                long now = System.nanoTime();
                if (!rs.next()) {
                    return new SlotSnapshot(true, false, false, null, null, null, null, null, null, null, System.currentTimeMillis());
                }
                Lsn confirmed = rs.getString(3) == null ? null : Lsn.parse(rs.getString(3));
                Lsn walEnd = Lsn.parse(rs.getString(8));
                record(now, walEnd.value());
                Long lagBytes = (Long) rs.getObject(6);
                Double lagSeconds = confirmed == null ? null : lagSeconds(now, confirmed.value());
                return new SlotSnapshot(true, true, rs.getBoolean(1), (Integer) rs.getObject(2), confirmed,
                        rs.getString(4) == null ? null : Lsn.parse(rs.getString(4)), rs.getString(5),
                        lagBytes == null ? null : Math.max(0, lagBytes), (Long) rs.getObject(7), lagSeconds,
                        System.currentTimeMillis());
            }
        }
    }

    private void record(long now, long walEnd) {
        Sample last = history.peekLast();
        if (last == null || last.walEnd() != walEnd) {
            history.addLast(new Sample(now, walEnd));
            if (history.size() > HISTORY) {
                history.removeFirst();
            }
        }
    }

    /** Seconds since the WAL end first passed the confirmed position; 0 when caught up. */
    private double lagSeconds(long now, long confirmed) {
        Sample firstAhead = null;
        for (var it = history.descendingIterator(); it.hasNext(); ) {
            Sample s = it.next();
            if (Long.compareUnsigned(s.walEnd(), confirmed) <= 0) {
                break;
            }
            firstAhead = s;
        }
        return firstAhead == null ? 0.0 : (now - firstAhead.nanos()) / 1e9;
    }
}
