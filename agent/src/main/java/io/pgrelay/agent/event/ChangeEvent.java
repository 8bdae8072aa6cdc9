package io.pgrelay.agent.event;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

/**
 * One row change (or one table's truncate), ready to be routed and encoded.
 *
 * @param before            the old row or key as PostgreSQL sent it (an update's or delete's
 *                          old tuple), null when none was sent; an insert's is null
 * @param after             the new row (insert, update, snapshot), else null
 * @param lsn               the LSN of the change itself
 * @param commitLsn         the LSN of its transaction's commit
 * @param seq               the event's index within its transaction, from 0
 * @param committedAtMicros the commit time in microseconds since 1970-01-01 UTC (Unix epoch;
 *                          see {@link #unixMicros} for pgoutput's 2000-01-01 epoch)
 */
public record ChangeEvent(Op op, Relation relation, TupleData before, TupleData after,
                          Lsn lsn, Lsn commitLsn, long xid, long seq, long committedAtMicros) {

    /** Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
    public static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    /** Converts a pgoutput time (microseconds since 2000-01-01 UTC) to microseconds since 1970-01-01 UTC. */
    public static long unixMicros(long postgresMicros) {
        return postgresMicros + POSTGRES_EPOCH_MICROS;
    }

    /** {@code (commitLsn, seq)}: only grows, across transactions and restarts. */
    public Position position() {
        return new Position(commitLsn, seq);
    }
}
