package io.pgrelay.agent.event;

import io.pgrelay.agent.event.TypeInfo.Kind;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Describes built-in types from {@link BuiltinTypes} and every other one — user-defined enums,
 * domains, composites, their arrays, and the types {@code initdb} creates with varying OIDs
 * (information_schema's domains) — from {@code pg_type}, caching each answer. Only registering a
 * relation asks it, never a row, so its I/O stays off the hot path.
 */
public final class JdbcTypeCatalog implements TypeCatalog {

    /** Opens a connection; the catalog closes it after each lookup. {@code dataSource::getConnection} fits. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    private static final String QUERY = "SELECT typname, typtype, typcategory, typelem, typbasetype, typdelim"
            + " FROM pg_catalog.pg_type WHERE oid = ?";

    private final ConnectionSource connections;
    private final ConcurrentHashMap<Integer, TypeInfo> cache = new ConcurrentHashMap<>();

    public JdbcTypeCatalog(ConnectionSource connections) {
        this.connections = connections;
    }

    /**
     * @throws IllegalStateException if {@code pg_type} cannot be read; an OID that is not there
     *                               is {@link Kind#UNKNOWN} and not cached
     */
    @Override
    public TypeInfo type(int oid) {
        TypeInfo builtin = BuiltinTypes.type(oid);
        if (builtin.kind() != Kind.UNKNOWN) {
            return builtin;
        }
        TypeInfo cached = cache.get(oid);
        if (cached != null) {
            return cached;
        }
        TypeInfo found = lookUp(oid);
        if (found.kind() != Kind.UNKNOWN) {
            cache.put(oid, found);
        }
        return found;
    }

    private TypeInfo lookUp(int oid) {
        try (Connection connection = connections.open();
             PreparedStatement query = connection.prepareStatement(QUERY)) {
            query.setLong(1, oid & 0xFFFFFFFFL);
            try (ResultSet row = query.executeQuery()) {
                if (!row.next()) {
                    return TypeInfo.unknown(oid);
                }
                String name = row.getString("typname");
                char typtype = row.getString("typtype").charAt(0);
                char category = row.getString("typcategory").charAt(0);
                int element = (int) row.getLong("typelem");
                int base = (int) row.getLong("typbasetype");
                String delim = row.getString("typdelim");
                char delimiter = delim == null || delim.isEmpty() ? ',' : delim.charAt(0);
                return describe(oid, name, typtype, category, element, base).withDelimiter(delimiter);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("looking up type " + (oid & 0xFFFFFFFFL) + " in pg_type failed: "
                    + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")", e);
        }
    }

    private static TypeInfo describe(int oid, String name, char typtype, char category, int element, int base) {
        return switch (typtype) {
            case 'd' -> TypeInfo.domain(oid, name, base);
            case 'e' -> TypeInfo.of(oid, name, Kind.ENUM);
            case 'c' -> TypeInfo.of(oid, name, Kind.COMPOSITE);
            case 'r' -> TypeInfo.of(oid, name, Kind.RANGE);
            case 'm' -> TypeInfo.of(oid, name, Kind.MULTIRANGE);
            case 'p' -> TypeInfo.of(oid, name, Kind.PSEUDO);
            // A base type with an element type is an array when its category says so; 'point'
            // and 'name' have typelem too, but their text form is not an array literal.
            case 'b' -> category == 'A' && element != 0 ? TypeInfo.array(oid, name, element) : TypeInfo.base(oid, name);
            default -> TypeInfo.unknown(oid);
        };
    }
}
