package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.TableId;

import java.util.List;

/**
 * {@code R}: describes a relation before its first row change in a session, and again whenever
 * it changes. Row messages name it only by {@code relationId}.
 *
 * @param namespace       the schema; PostgreSQL sends an empty string for {@code pg_catalog}
 * @param replicaIdentity {@code 'd'} default (primary key), {@code 'n'} nothing, {@code 'f'} full,
 *                        {@code 'i'} index — as {@code pg_class.relreplident}
 * @param columns         in the order of the tuples' columns (generated columns are not sent)
 */
public record Relation(int relationId, String namespace, String name, char replicaIdentity, List<Column> columns)
        implements PgMessage {

    public static final char IDENTITY_DEFAULT = 'd';
    public static final char IDENTITY_NOTHING = 'n';
    public static final char IDENTITY_FULL = 'f';
    public static final char IDENTITY_INDEX = 'i';

    public Relation {
        columns = List.copyOf(columns);
    }

    /**
     * One column. {@code key} is set for the replica identity's columns — every column under
     * REPLICA IDENTITY FULL.
     */
    public record Column(boolean key, String name, int typeOid, int typeModifier) {
    }

    public TableId tableId() {
        return new TableId(namespace.isEmpty() ? "pg_catalog" : namespace, name);
    }
}
