package io.pgrelay.coordination;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The SQL the election runs against the slot and its walsender. Stateless. */
final class SlotQueries {

    private static final Logger log = LoggerFactory.getLogger(SlotQueries.class);

    private SlotQueries() {
    }

    /**
     * One look at the slot and at the signs of life of whoever holds it: the walsender's
     * {@code reply_time} (or {@code backend_start}) and, when the walsender belongs to an agent of
     * this cluster (its {@code application_name} is {@code pgrelay-<id>}), that agent's heartbeat
     * in {@code pgrelay.members}. Both go into the marker, so the holder looks hung only when both
     * stand still. Why both: while a walsender streams a large transaction it takes a fast path
     * that reads no client replies until half of {@code wal_sender_timeout} has passed, so
     * {@code reply_time} freezes for tens of seconds under a perfectly healthy leader.
     */
    static HangDetector.SlotObservation observe(Connection c, String slot, String cluster) throws SQLException {
        String sql = """
                SELECT s.active, s.active_pid,
                       coalesce(r.reply_time, r.backend_start)::text || ' ' || coalesce(m.updated_at::text, '') AS marker
                  FROM pg_replication_slots s
                  LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
                  LEFT JOIN pgrelay.members m ON m.cluster = ? AND r.application_name = 'pgrelay-' || m.id
                 WHERE s.slot_name = ?""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, cluster);
            ps.setString(2, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new HangDetector.SlotObservation(false, false, null, null);
                }
                int pid = rs.getInt(2);
                Integer activePid = rs.wasNull() ? null : pid;
                return new HangDetector.SlotObservation(true, rs.getBoolean(1), activePid, rs.getString(3));
            }
        }
    }

    /** The pid of the walsender holding the slot, or null when the slot is free or missing. */
    static Integer holderPid(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ? AND active")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? (Integer) rs.getObject(1) : null;
            }
        }
    }

    /**
     * Terminates the walsender {@code pid} if it still holds {@code slot} (checked in the same
     * statement, so a pid reused by an unrelated backend is never hit). True when signalled.
     */
    static boolean terminate(Connection c, String slot, int pid, String why) throws SQLException {
        String sql = """
                SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
                 WHERE slot_name = ? AND active_pid = ?""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, slot);
            ps.setInt(2, pid);
            try (ResultSet rs = ps.executeQuery()) {
                boolean done = rs.next() && rs.getBoolean(1);
                if (done) {
                    log.warn("terminated walsender pid {} holding replication slot \"{}\": {}", pid, slot, why);
                } else {
                    log.info("walsender pid {} no longer holds replication slot \"{}\"; nothing to terminate", pid, slot);
                }
                return done;
            }
        }
    }
}
