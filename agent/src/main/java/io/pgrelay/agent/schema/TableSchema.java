package io.pgrelay.agent.schema;

import io.pgrelay.agent.event.TypeCatalog;
import io.pgrelay.agent.pgoutput.Relation;

import java.util.ArrayList;
import java.util.List;

/**
 * A table's shape as a Relation message gives it, with type names: what a schema event publishes
 * and what the next Relation message of the table is compared with.
 *
 * @param table           {@code schema.table}, as events name it
 * @param replicaIdentity as {@code pg_class.relreplident}: {@code d n f i}
 */
public record TableSchema(String table, char replicaIdentity, List<Column> columns) {

    /**
     * One column. {@code type} is for people; {@code typeOid} and {@code typeModifier} are what
     * shapes are compared by (a type name may read differently if the catalog could not be asked).
     */
    public record Column(String name, String type, int typeOid, int typeModifier, boolean key) {

        boolean sameShapeAs(Column other) {
            return name.equals(other.name) && typeOid == other.typeOid && typeModifier == other.typeModifier
                    && key == other.key;
        }
    }

    public TableSchema {
        columns = List.copyOf(columns);
    }

    /** The shape a Relation message describes; type names from {@code types}. */
    public static TableSchema of(Relation relation, TypeCatalog types) {
        List<Column> columns = new ArrayList<>(relation.columns().size());
        for (Relation.Column c : relation.columns()) {
            columns.add(new Column(c.name(), types.type(c.typeOid()).name(), c.typeOid(), c.typeModifier(), c.key()));
        }
        return new TableSchema(relation.tableId().toString(), relation.replicaIdentity(), columns);
    }

    /** Same table, replica identity, and columns in the same order with the same names, types, typmods and key flags. */
    public boolean sameShapeAs(TableSchema other) {
        if (other == null || !table.equals(other.table) || replicaIdentity != other.replicaIdentity
                || columns.size() != other.columns.size()) {
            return false;
        }
        for (int i = 0; i < columns.size(); i++) {
            if (!columns.get(i).sameShapeAs(other.columns.get(i))) {
                return false;
            }
        }
        return true;
    }

    public Column column(String name) {
        for (Column c : columns) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }

    /** The replica identity as a word: {@code default}, {@code nothing}, {@code full}, {@code index}. */
    public String replicaIdentityName() {
        return identityName(replicaIdentity);
    }

    static String identityName(char identity) {
        return switch (identity) {
            case Relation.IDENTITY_DEFAULT -> "default";
            case Relation.IDENTITY_NOTHING -> "nothing";
            case Relation.IDENTITY_FULL -> "full";
            case Relation.IDENTITY_INDEX -> "index";
            default -> String.valueOf(identity);
        };
    }

    static char identityCode(String name) {
        return switch (name) {
            case "default" -> Relation.IDENTITY_DEFAULT;
            case "nothing" -> Relation.IDENTITY_NOTHING;
            case "full" -> Relation.IDENTITY_FULL;
            case "index" -> Relation.IDENTITY_INDEX;
            default -> {
                if (name.length() != 1) {
                    throw new IllegalArgumentException("unknown replica identity " + name);
                }
                yield name.charAt(0);
            }
        };
    }
}
