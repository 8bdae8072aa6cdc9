package io.pgrelay.agent.event;

import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

import java.util.List;

/**
 * What both row formats ({@link RelationCodec}, {@link DebeziumEncoder}) need of a relation's
 * columns: the primary key's columns found by name, and a tuple's width checked against its
 * Relation message before the tuple is read.
 */
final class RelationColumns {

    private RelationColumns() {
    }

    /** The positions of the columns {@code names} (a primary key), in the order given. */
    static int[] indexesOf(Relation relation, List<String> names) {
        int[] indexes = new int[names.size()];
        for (int k = 0; k < indexes.length; k++) {
            indexes[k] = -1;
            for (int i = 0; i < relation.columns().size(); i++) {
                if (relation.columns().get(i).name().equals(names.get(k))) {
                    indexes[k] = i;
                }
            }
            if (indexes[k] < 0) {
                throw new EventEncodingException("primary key column " + names.get(k) + " is not a column of "
                        + relation.tableId() + " (columns: " + relation.columns().stream().map(Relation.Column::name).toList() + ")");
            }
        }
        return indexes;
    }

    /**
     * Fails unless {@code row} has {@code width} columns, the number {@code relation} describes (the
     * caller's own per-column array: on the per-event path, no list is asked for its size).
     */
    static void checkWidth(Relation relation, int width, TupleData row) {
        if (row.size() != width) {
            throw new EventEncodingException("a tuple of " + relation.tableId() + " has " + row.size()
                    + " columns but its Relation message (id " + relation.relationId() + ") describes " + width);
        }
    }
}
