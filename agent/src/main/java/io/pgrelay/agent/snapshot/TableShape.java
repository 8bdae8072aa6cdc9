package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a chunk's SELECT needs to know of a table, read from the catalog once per term.
 *
 * @param relation      the columns as pgoutput's Relation message describes them (relation id = the table's oid)
 * @param keyColumns    the chunking key; empty for a table without one (read whole, see {@code SnapshotWorker})
 * @param keyTypes      SQL types of the key columns, to cast the last key sent back
 * @param selectList    the published columns, then the key columns again (to read the last key)
 * @param estimate      {@code pg_class.reltuples}, null when PostgreSQL has none
 */
record TableShape(TableId table, Relation relation, List<String> keyColumns, List<String> keyTypes,
                  String selectList, Long estimate) {

    boolean keyless() {
        return keyColumns.isEmpty();
    }

    /**
     * Reads the table's columns and identity as pgoutput would send them (generated columns left
     * out, the publication's column list applied) and its chunking key: the primary key, else the
     * replica identity index, else none. Null when the table is gone or not published.
     */
    static TableShape read(Connection c, TableId table, String publication) throws SQLException {
        int oid;
        char identity;
        double reltuples;
        String namespace;
        String name;
        try (PreparedStatement ps = c.prepareStatement("SELECT c.oid, n.nspname, c.relname, c.relreplident, c.reltuples "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(?::text)")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                oid = (int) rs.getLong(1);
                namespace = rs.getString(2);
                name = rs.getString(3);
                identity = rs.getString(4).charAt(0);
                reltuples = rs.getDouble(5);
            }
        }
        List<String> published = publishedColumns(c, table, publication);
        if (published == null) {
            return null;
        }
        List<String> primaryKey = indexColumns(c, oid, "indisprimary");
        List<String> identityIndex = identity == Relation.IDENTITY_INDEX ? indexColumns(c, oid, "indisreplident") : List.of();
        List<Relation.Column> columns = new ArrayList<>();
        Map<String, String> types = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, NULL) "
                + "FROM pg_attribute a WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
                + "ORDER BY a.attnum")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(1);
                    types.put(column, rs.getString(4));
                    if (!published.isEmpty() && !published.contains(column)) {
                        continue;
                    }
                    boolean key = switch (identity) {
                        case Relation.IDENTITY_FULL -> true;
                        case Relation.IDENTITY_INDEX -> identityIndex.contains(column);
                        case Relation.IDENTITY_DEFAULT -> primaryKey.contains(column);
                        default -> false;
                    };
                    columns.add(new Relation.Column(key, column, (int) rs.getLong(2), rs.getInt(3)));
                }
            }
        }
        List<String> keyColumns = !primaryKey.isEmpty() ? primaryKey : identityIndex;
        StringBuilder select = new StringBuilder();
        for (Relation.Column column : columns) {
            select.append(select.length() > 0 ? ", " : "").append(TableId.quoteIdent(column.name()));
        }
        for (String k : keyColumns) {
            select.append(", ").append(TableId.quoteIdent(k));
        }
        return new TableShape(table, new Relation(oid, namespace, name, identity, columns), keyColumns,
                keyColumns.stream().map(types::get).toList(), select.toString(), reltuples >= 0 ? (long) reltuples : null);
    }

    /** The publication's column list for the table (empty: every column), or null when the table is not published. */
    private static List<String> publishedColumns(Connection c, TableId table, String publication) throws SQLException {
        boolean columnLists = c.getMetaData().getDatabaseMajorVersion() >= 15;
        String sql = "SELECT " + (columnLists ? "attnames" : "NULL") + " FROM pg_publication_tables "
                + "WHERE pubname = ? AND schemaname = ? AND tablename = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, publication);
            ps.setString(2, table.schema());
            ps.setString(3, table.table());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                java.sql.Array names = rs.getArray(1);
                return names == null ? List.of() : List.of((String[]) names.getArray());
            }
        }
    }

    private static List<String> indexColumns(Connection c, int oid, String flag) throws SQLException {
        String sql = "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                + "WHERE i.indrelid = ? AND i." + flag + " ORDER BY array_position(i.indkey, a.attnum)";
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        return columns;
    }
}
