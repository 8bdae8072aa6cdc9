package io.pgrelay.agent.pgoutput;

/**
 * {@code U}: a row was updated. PostgreSQL sends the old row only when the replica identity
 * allows and needs it: {@code 'K'} the old key (REPLICA IDENTITY DEFAULT or INDEX, when the key
 * changed; the other columns are null), {@code 'O'} the whole old row (REPLICA IDENTITY FULL).
 *
 * @param oldKind  {@code 'K'}, {@code 'O'}, or {@code 0} when no old tuple was sent
 * @param oldTuple null when no old tuple was sent
 */
public record Update(int relationId, char oldKind, TupleData oldTuple, TupleData newTuple) implements PgMessage {

    public boolean hasOldTuple() {
        return oldTuple != null;
    }
}
