package io.pgrelay.agent.pgoutput;

/**
 * {@code D}: a row was deleted. {@code oldKind} is {@code 'K'} (only the key columns are set;
 * the others are sent as null) or {@code 'O'} (the whole old row, REPLICA IDENTITY FULL).
 */
public record Delete(int relationId, char oldKind, TupleData oldTuple) implements PgMessage {
}
