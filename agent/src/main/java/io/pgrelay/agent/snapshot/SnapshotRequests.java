package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@code POST /admin/snapshot} into a {@value Watermark#REQUEST} message in the WAL. Once the
 * message is committed the request is as durable as any row change: whichever agent leads next
 * reads it from the slot and the snapshot happens, even if this leader dies a moment later.
 */
public final class SnapshotRequests {

    private final PgConnections connections;
    private final String publication;

    public SnapshotRequests(PgConnections connections, String publication) {
        this.connections = connections;
        this.publication = publication;
    }

    /**
     * Checks every table, then requests them all, or none.
     *
     * @throws IllegalArgumentException naming each table that cannot be parsed, does not exist or is not published
     */
    public List<TableId> request(List<String> names) throws SQLException, PgConnectException {
        List<TableId> tables = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String name : names) {
            try {
                tables.add(TableId.parse(name));
            } catch (IllegalArgumentException e) {
                problems.add("table '" + name + "': " + e.getMessage());
            }
        }
        try (Connection c = connections.borrow()) {
            for (TableId t : tables) {
                if (!exists(c, t)) {
                    problems.add("table " + t + " does not exist");
                } else if (!published(c, t)) {
                    problems.add("table " + t + " is not in publication " + publication);
                }
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(true, ?, ?)")) {
                ps.setString(1, Watermark.REQUEST);
                ps.setString(2, Watermark.request(tables));
                ps.execute();
            }
        }
        return tables;
    }

    private static boolean exists(Connection c, TableId t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?::text) IS NOT NULL")) {
            ps.setString(1, t.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private boolean published(Connection c, TableId t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM pg_publication_tables WHERE pubname = ? AND schemaname = ? AND tablename = ?")) {
            ps.setString(1, publication);
            ps.setString(2, t.schema());
            ps.setString(3, t.table());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
