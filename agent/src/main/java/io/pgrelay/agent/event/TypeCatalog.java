package io.pgrelay.agent.event;

/**
 * Describes PostgreSQL types by OID. Asked when a relation is registered with the
 * {@link EventEncoder}, never per row, so an implementation may do I/O
 * ({@link JdbcTypeCatalog}); {@link BuiltinTypes#CATALOG} does none.
 */
public interface TypeCatalog {

    /** The type's description; {@link TypeInfo.Kind#UNKNOWN} when the OID is not known. Never null. */
    TypeInfo type(int oid);
}
