package io.pgrelay.coordination;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Slot mode's member registry: table {@code pgrelay.members}. Liveness is judged by the database
 * clock alone ({@code updated_at > now() - liveWithin}). Thread-safe: one connection, reopened
 * after a failure, used under this object's lock.
 */
final class PgMemberRegistry implements MemberRegistry {

    private static final Logger log = LoggerFactory.getLogger(PgMemberRegistry.class);

    private final ElectionConfig config;
    private final Duration liveWithin;
    private Connection connection;
    private Role role = Role.STARTING;
    private long epoch;

    PgMemberRegistry(ElectionConfig config) {
        this.config = config;
        this.liveWithin = MemberRegistry.liveWithin(config.pollInterval());
    }

    @Override
    public synchronized void start(Role initial) throws SQLException {
        ClusterTable.ensureSchema(connection());
        publish(initial, 0);
    }

    @Override
    public synchronized void publish(Role newRole, long newEpoch) throws SQLException {
        role = newRole;
        epoch = newEpoch;
        upsert();
    }

    @Override
    public synchronized void heartbeat() throws SQLException {
        upsert();
    }

    private void upsert() throws SQLException {
        String sql = """
                INSERT INTO pgrelay.members (cluster, id, http, role, epoch, updated_at) VALUES (?, ?, ?, ?, ?, now())
                ON CONFLICT (cluster, id) DO UPDATE
                   SET http = excluded.http, role = excluded.role, epoch = excluded.epoch, updated_at = now()""";
        try (PreparedStatement ps = connection().prepareStatement(sql)) {
            ps.setString(1, config.cluster());
            ps.setString(2, config.agentId());
            ps.setString(3, config.http());
            ps.setString(4, role.wireName());
            ps.setLong(5, epoch);
            ps.executeUpdate();
        } catch (SQLException e) {
            dropConnection();
            throw e;
        }
    }

    @Override
    public synchronized List<Member> members() throws SQLException {
        try {
            return read(connection(), config.cluster(), liveWithin);
        } catch (SQLException e) {
            dropConnection();
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        try (PreparedStatement ps = connection().prepareStatement("DELETE FROM pgrelay.members WHERE cluster = ? AND id = ?")) {
            ps.setString(1, config.cluster());
            ps.setString(2, config.agentId());
            ps.executeUpdate();
        } catch (SQLException e) {
            log.warn("agent {}: could not remove its member entry of cluster {}: {}", config.agentId(), config.cluster(), e.toString());
        }
        dropConnection();
    }

    static List<Member> read(ConnectionSource postgres, String cluster, Duration liveWithin) throws SQLException {
        try (Connection c = postgres.open()) {
            return read(c, cluster, liveWithin);
        }
    }

    static List<Member> read(Connection c, String cluster, Duration liveWithin) throws SQLException {
        String sql = """
                SELECT id, http, role, epoch, updated_at FROM pgrelay.members
                 WHERE cluster = ? AND updated_at > now() - ? * interval '1 millisecond'
                 ORDER BY id""";
        List<Member> members = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, cluster);
            ps.setLong(2, liveWithin.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    members.add(new Member(rs.getString(1), rs.getString(2), Role.fromWireName(rs.getString(3)),
                            rs.getLong(4), rs.getTimestamp(5).toInstant()));
                }
            }
        }
        return members;
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = config.postgres().open();
            connection.setAutoCommit(true);
        }
        return connection;
    }

    private void dropConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            connection = null;
        }
    }
}
