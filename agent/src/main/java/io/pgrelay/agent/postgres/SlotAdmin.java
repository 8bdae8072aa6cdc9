package io.pgrelay.agent.postgres;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.SlotOrigin;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * Reads, creates and drops the logical replication slot, over a plain connection (not the
 * replication one). Not thread-safe: one connection, one caller.
 */
public final class SlotAdmin {

    /** SQLSTATE object_in_use: PostgreSQL's answer when a slot is held by another session. */
    static final String OBJECT_IN_USE = "55006";

    private final Connection connection;

    public SlotAdmin(Connection connection) {
        this.connection = connection;
    }

    /** The slot's state, or empty when no slot has that name. */
    public Optional<SlotState> read(String slot) throws SQLException {
        boolean hasWalStatus = connection.getMetaData().getDatabaseMajorVersion() >= 13;
        String sql = "SELECT slot_name, plugin, slot_type, database, active, active_pid, confirmed_flush_lsn::text,"
                + " restart_lsn::text, " + (hasWalStatus ? "wal_status" : "NULL::text") + ","
                + " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,"
                + " restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?";
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                int pid = rs.getInt(6);
                Integer activePid = rs.wasNull() ? null : pid;
                long retained = rs.getLong(10);
                Long retainedBytes = rs.wasNull() ? null : retained;
                return Optional.of(new SlotState(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getBoolean(5), activePid, lsn(rs.getString(7)), lsn(rs.getString(8)), rs.getString(9), retainedBytes));
            }
        }
    }

    /**
     * Creates the slot with plugin {@code pgoutput}; on PostgreSQL 17 and later as a failover slot,
     * which physical standbys with {@code sync_replication_slots} keep a copy of, so that it
     * survives a promotion (without such standbys the flag changes nothing). PostgreSQL waits for
     * transactions running at this moment to end before it returns, so a long open transaction
     * makes this wait too.
     *
     * @return the slot's consistent point: changes committed after it will be streamed
     */
    public Lsn create(String slot) throws SQLException {
        String sql = connection.getMetaData().getDatabaseMajorVersion() >= 17
                // slot, plugin, temporary, two_phase, failover
                ? "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput', false, false, true)"
                : "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')";
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Lsn.parse(rs.getString(1));
            }
        }
    }

    /**
     * Creates the slot over a replication connection with an exported snapshot, and reads that
     * snapshot back (on {@code plain}, in a transaction that imports it) while it is still valid —
     * until the next command on {@code replication}. The result is the slot's {@link SlotOrigin}:
     * exactly the transactions that committed before the slot's first change. On PostgreSQL 17
     * and later the slot is a failover slot, as with {@link #create}.
     *
     * @param replication a replication connection ({@code replication=database}); left open for the caller to close
     */
    public static SlotOrigin createWithOrigin(Connection replication, Connection plain, String slot) throws SQLException {
        int major = plain.getMetaData().getDatabaseMajorVersion();
        String options = major >= 17 ? " (SNAPSHOT 'export', FAILOVER true)" : major >= 15 ? " (SNAPSHOT 'export')" : " EXPORT_SNAPSHOT";
        Lsn consistentPoint;
        String exported;
        try (Statement s = replication.createStatement();
             ResultSet rs = s.executeQuery("CREATE_REPLICATION_SLOT " + slot + " LOGICAL pgoutput" + options)) {
            rs.next();
            consistentPoint = Lsn.parse(rs.getString("consistent_point"));
            exported = rs.getString("snapshot_name");
        }
        boolean autoCommit = plain.getAutoCommit();
        plain.setAutoCommit(false);
        try (Statement s = plain.createStatement()) {
            s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            s.execute("SET TRANSACTION SNAPSHOT '" + exported.replace("'", "''") + "'");
            try (ResultSet rs = s.executeQuery(major >= 13 ? "SELECT pg_current_snapshot()::text" : "SELECT txid_current_snapshot()::text")) {
                rs.next();
                return new SlotOrigin(consistentPoint, rs.getString(1));
            }
        } finally {
            plain.rollback();
            plain.setAutoCommit(autoCommit);
        }
    }

    /** A temporary slot's consistent point and the snapshot it exported (valid until the next command on its connection). */
    public record Exported(Lsn consistentPoint, String snapshot) {
    }

    /**
     * Creates a temporary logical slot over {@code replication} with an exported snapshot, for one
     * consistent read (the snapshot of a table without a key): the snapshot holds exactly the
     * transactions that committed before the consistent point. PostgreSQL drops the slot when the
     * connection closes; import the snapshot ({@code SET TRANSACTION SNAPSHOT}) before that.
     */
    public static Exported createTemporary(Connection replication, int majorVersion, String slot) throws SQLException {
        String options = majorVersion >= 15 ? " (SNAPSHOT 'export')" : " EXPORT_SNAPSHOT";
        try (Statement s = replication.createStatement();
             ResultSet rs = s.executeQuery("CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput" + options)) {
            rs.next();
            return new Exported(Lsn.parse(rs.getString("consistent_point")), rs.getString("snapshot_name"));
        }
    }

    /**
     * Drops the slot; false when there was none. A slot in use is not dropped: the exception names
     * the process holding it.
     */
    public boolean drop(String slot) throws SQLException, SlotInUseException {
        Optional<SlotState> state = read(slot);
        if (state.isEmpty()) {
            return false;
        }
        if (state.get().active()) {
            throw inUse(state.get());
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
            ps.setString(1, slot);
            ps.execute();
            return true;
        } catch (SQLException e) {
            if (OBJECT_IN_USE.equals(e.getSQLState())) {
                // an agent took the slot between our read and the drop
                Optional<SlotState> now = read(slot);
                if (now.isPresent() && now.get().active()) {
                    throw inUse(now.get());
                }
            }
            throw e;
        }
    }

    private SlotInUseException inUse(SlotState state) throws SQLException {
        String who = "";
        if (state.activePid() != null) {
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT application_name, host(client_addr) FROM pg_stat_activity WHERE pid = ?")) {
                ps.setInt(1, state.activePid());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        who = " (" + (rs.getString(1) == null || rs.getString(1).isEmpty() ? "no application_name" : rs.getString(1))
                                + (rs.getString(2) == null ? "" : " from " + rs.getString(2)) + ")";
                    }
                }
            }
        }
        String pid = state.activePid() == null ? "an unknown process" : "pid " + state.activePid();
        return new SlotInUseException(state.name(), state.activePid(), "slot " + state.name() + " is active, held by " + pid
                + who + "; stop that agent first"
                + (state.activePid() == null ? "" : ", or end the session with SELECT pg_terminate_backend(" + state.activePid() + ")"));
    }

    private static Lsn lsn(String text) {
        return text == null ? null : Lsn.parse(text);
    }

    /** The slot is held by a running session (SQLSTATE 55006 territory). */
    public static final class SlotInUseException extends Exception {
        private final String slot;
        private final Integer pid;

        SlotInUseException(String slot, Integer pid, String message) {
            super(message);
            this.slot = slot;
            this.pid = pid;
        }

        public String slot() {
            return slot;
        }

        /** The walsender process holding the slot, or null when PostgreSQL did not say. */
        public Integer pid() {
            return pid;
        }
    }
}
