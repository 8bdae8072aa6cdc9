package io.pgrelay.agent.pgoutput;

/** {@code I}: a row was inserted into the relation last described by a {@link Relation} with this id. */
public record Insert(int relationId, TupleData newTuple) implements PgMessage {
}
