package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Positions shared between the pipeline's threads and whoever watches it. The sink thread moves
 * them forward after Kafka commits; the reader thread sends {@link #flushed()} to PostgreSQL.
 */
public final class StreamProgress {

    private final AtomicLong flushed = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private volatile Position committed = Position.NONE;

    /** Everything before this LSN is in Kafka; only ever moves forward. */
    void flushed(Lsn lsn) {
        flushed.accumulateAndGet(lsn.value(), (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
    }

    void received(long lsn) {
        received.lazySet(lsn);
    }

    void committed(Position position) {
        committed = position;
    }

    public Lsn flushed() {
        return Lsn.of(flushed.get());
    }

    /** {@link #flushed()} without the allocation, for the reader's per-message check. */
    long flushedValue() {
        return flushed.get();
    }

    public Lsn received() {
        return Lsn.of(received.get());
    }

    /** Position of the last event in the last committed Kafka transaction. */
    public Position committed() {
        return committed;
    }
}
