package io.pgrelay.agent.event;

import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

/**
 * What both row formats ({@link RelationCodec}, {@link DebeziumEncoder}) check of a relation's
 * columns: a tuple's width against its Relation message, before the tuple is read.
 */
final class RelationColumns {

    private RelationColumns() {
    }

    /** Fails unless {@code row} has as many columns as {@code relation} describes. */
    static void checkWidth(Relation relation, TupleData row) {
        int width = relation.columns().size();
        if (row.size() != width) {
            throw new EventEncodingException("a tuple of " + relation.tableId() + " has " + row.size()
                    + " columns but its Relation message (id " + relation.relationId() + ") describes " + width);
        }
    }
}
