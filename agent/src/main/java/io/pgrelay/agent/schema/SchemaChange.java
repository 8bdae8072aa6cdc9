package io.pgrelay.agent.schema;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One difference between two shapes of a table, as a schema event's {@code changes} lists it.
 *
 * <p>pgoutput's Relation message carries no attribute numbers, so a rename is inferred: a column
 * whose name vanished and, at the same place among the columns, one of the same type whose name is
 * new. Anything else that vanished was dropped, anything new was added.
 *
 * @param change {@code added}, {@code dropped}, {@code renamed}, {@code retyped}, {@code key}
 *               (a column joined or left the replica identity), {@code replicaIdentity}
 * @param column the column concerned (for {@code renamed}, its new name); null for {@code replicaIdentity}
 * @param from   the old value: name, type, key flag or identity; null for {@code added}
 * @param to     the new value; null for {@code dropped}
 */
public record SchemaChange(String change, String column, String from, String to) {

    /** What changed from {@code before} to {@code after}, in column order; empty when {@code before} is null. */
    public static List<SchemaChange> between(TableSchema before, TableSchema after) {
        List<SchemaChange> changes = new ArrayList<>();
        if (before == null) {
            return changes;
        }
        if (before.replicaIdentity() != after.replicaIdentity()) {
            changes.add(new SchemaChange("replicaIdentity", null, before.replicaIdentityName(), after.replicaIdentityName()));
        }
        Map<String, String> renamedTo = renames(before, after);
        Map<String, String> renamedFrom = new HashMap<>();
        renamedTo.forEach((from, to) -> renamedFrom.put(to, from));
        for (TableSchema.Column old : before.columns()) {
            if (after.column(old.name()) == null && !renamedTo.containsKey(old.name())) {
                changes.add(new SchemaChange("dropped", old.name(), old.name(), null));
            }
        }
        for (TableSchema.Column now : after.columns()) {
            String oldName = renamedFrom.getOrDefault(now.name(), now.name());
            TableSchema.Column old = before.column(oldName);
            if (old == null) {
                changes.add(new SchemaChange("added", now.name(), null, typeText(now)));
                continue;
            }
            if (!oldName.equals(now.name())) {
                changes.add(new SchemaChange("renamed", now.name(), oldName, now.name()));
            }
            if (old.typeOid() != now.typeOid() || old.typeModifier() != now.typeModifier()) {
                changes.add(new SchemaChange("retyped", now.name(), typeText(old), typeText(now)));
            }
            if (old.key() != now.key()) {
                changes.add(new SchemaChange("key", now.name(), String.valueOf(old.key()), String.valueOf(now.key())));
            }
        }
        return changes;
    }

    /** Old name → new name, for columns at the same place with the same type whose old name is gone and new name is new. */
    private static Map<String, String> renames(TableSchema before, TableSchema after) {
        Map<String, String> renames = new HashMap<>();
        int n = Math.min(before.columns().size(), after.columns().size());
        for (int i = 0; i < n; i++) {
            TableSchema.Column old = before.columns().get(i);
            TableSchema.Column now = after.columns().get(i);
            if (!old.name().equals(now.name()) && after.column(old.name()) == null && before.column(now.name()) == null
                    && old.typeOid() == now.typeOid() && old.typeModifier() == now.typeModifier()) {
                renames.put(old.name(), now.name());
            }
        }
        return renames;
    }

    private static String typeText(TableSchema.Column c) {
        return c.typeModifier() < 0 ? c.type() : c.type() + " (typmod " + c.typeModifier() + ")";
    }
}
