package io.pgrelay.agent.postgres;

import io.pgrelay.agent.core.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads, creates, extends and drops the publication that tells pgoutput which tables to send. The
 * publication name is taken literally (quoted in SQL), as the slot name is. Not thread-safe.
 */
public final class PublicationAdmin {

    /**
     * A publication as the catalog shows it.
     *
     * @param tables      the tables it publishes now (every table, for {@code FOR ALL TABLES})
     * @param ownedByUs   true when the connected role may alter it (owner, member of the owner role, or superuser)
     */
    public record PublicationState(String name, boolean allTables, Set<TableId> tables, boolean ownedByUs) {

        /** The configured tables it does not publish yet (none when it publishes all tables). */
        public List<TableId> missing(List<TableId> wanted) {
            return allTables ? List.of() : wanted.stream().filter(t -> !tables.contains(t)).toList();
        }
    }

    private final Connection connection;

    public PublicationAdmin(Connection connection) {
        this.connection = connection;
    }

    public Optional<PublicationState> read(String publication) throws SQLException {
        boolean allTables;
        boolean owned;
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT puballtables, pg_has_role(pubowner, 'USAGE') FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                allTables = rs.getBoolean(1);
                owned = rs.getBoolean(2);
            }
        }
        return Optional.of(new PublicationState(publication, allTables, new LinkedHashSet<>(publishedTables(publication)), owned));
    }

    /**
     * Creates the publication when missing ({@code FOR TABLE …}, or {@code FOR ALL TABLES} when
     * {@code tables} is empty) and adds configured tables an existing one lacks. Tables it publishes
     * beyond the configured ones are left alone: removing them is a decision for a person.
     *
     * @return what was done, one line each; empty when nothing was needed
     */
    public List<String> ensure(String publication, List<TableId> tables) throws SQLException {
        Optional<PublicationState> state = read(publication);
        String name = TableId.quoteIdent(publication);
        List<String> done = new ArrayList<>();
        if (state.isEmpty()) {
            String what = tables.isEmpty() ? "FOR ALL TABLES" : "FOR TABLE " + quoted(tables);
            execute("CREATE PUBLICATION " + name + " " + what);
            done.add("created publication " + publication + " " + what);
            return done;
        }
        if (tables.isEmpty() && !state.get().allTables()) {
            throw new SQLException("publication " + publication + " lists tables, but postgres.tables is empty (all tables);"
                    + " PostgreSQL cannot turn it into FOR ALL TABLES: DROP PUBLICATION " + name + " and run init again");
        }
        List<TableId> missing = state.get().missing(tables);
        if (!missing.isEmpty()) {
            execute("ALTER PUBLICATION " + name + " ADD TABLE " + quoted(missing));
            done.add("added to publication " + publication + ": " + quoted(missing));
        }
        return done;
    }

    /** The tables the publication sends, as {@code pg_publication_tables} lists them, by schema and name. */
    public List<TableId> publishedTables(String publication) throws SQLException {
        List<TableId> tables = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ? ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return tables;
    }

    /** Drops the publication; false when there was none. */
    public boolean drop(String publication) throws SQLException {
        if (read(publication).isEmpty()) {
            return false;
        }
        execute("DROP PUBLICATION " + TableId.quoteIdent(publication));
        return true;
    }

    static String quoted(List<TableId> tables) {
        return tables.stream().map(TableId::quoted).collect(Collectors.joining(", "));
    }

    private void execute(String sql) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(sql);
        }
    }
}
