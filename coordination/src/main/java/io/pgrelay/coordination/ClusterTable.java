package io.pgrelay.coordination;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;

/**
 * Slot mode's shared state in PostgreSQL: schema {@code pgrelay}, one row per cluster in
 * {@code pgrelay.clusters} (epoch, leader, pending handover) and the member table. Times are the
 * database's own ({@code now()}), so agents' clocks never matter.
 */
final class ClusterTable {

    /** One look at a cluster's row. {@code handoverPending}: {@code handover_until > now()}. */
    record Row(long epoch, String leader, String handoverTo, boolean handoverPending) {
        static final Row NONE = new Row(0, null, null, false);
    }

    private ClusterTable() {
    }

    /** Creates the schema and tables if missing; safe when several agents start at once. */
    static void ensureSchema(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            // CREATE ... IF NOT EXISTS races on the catalog's unique indexes when run concurrently
            s.execute("SELECT pg_advisory_xact_lock(hashtext('pgrelay.schema'))");
            s.execute("CREATE SCHEMA IF NOT EXISTS pgrelay");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS pgrelay.clusters (
                      cluster text PRIMARY KEY,
                      epoch bigint NOT NULL DEFAULT 0,
                      leader text,
                      handover_to text,
                      handover_until timestamptz)""");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS pgrelay.members (
                      cluster text NOT NULL,
                      id text NOT NULL,
                      http text NOT NULL,
                      role text NOT NULL,
                      epoch bigint NOT NULL,
                      updated_at timestamptz NOT NULL DEFAULT now(),
                      PRIMARY KEY (cluster, id))""");
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    static Row read(Connection c, String cluster) throws SQLException {
        String sql = """
                SELECT epoch, leader, handover_to, coalesce(handover_until > now(), false)
                  FROM pgrelay.clusters WHERE cluster = ?""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)) : Row.NONE;
            }
        }
    }

    /**
     * The new leader's epoch: {@code epoch + 1}, atomically, with this agent as leader and any
     * handover done. Only called once the caller holds the slot.
     */
    static long bumpEpoch(Connection c, String cluster, String agentId) throws SQLException {
        String sql = """
                INSERT INTO pgrelay.clusters AS c (cluster, epoch, leader) VALUES (?, 1, ?)
                ON CONFLICT (cluster) DO UPDATE
                   SET epoch = c.epoch + 1, leader = excluded.leader, handover_to = NULL, handover_until = NULL
                RETURNING epoch""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, cluster);
            ps.setString(2, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static void recordHandover(Connection c, String cluster, Optional<String> to, Duration window) throws SQLException {
        String sql = """
                UPDATE pgrelay.clusters
                   SET handover_to = ?, handover_until = now() + ? * interval '1 millisecond'
                 WHERE cluster = ?""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, to.orElse(null));
            ps.setLong(2, window.toMillis());
            ps.setString(3, cluster);
            ps.executeUpdate();
        }
    }
}
