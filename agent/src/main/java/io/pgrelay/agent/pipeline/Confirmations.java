package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.snapshot.SnapshotState;

/**
 * How far the slot may be confirmed, and what each checkpoint records of the slot. The slot is
 * never confirmed past what a committed checkpoint records ({@code flushed}): a position beyond is
 * first recorded by a Kafka commit, so that a slot created anew (which starts past it) is told
 * from this cluster's own (see {@code SlotCheck}). Each checkpoint also carries the slot's origin.
 *
 * <p>Thread rule: the sink thread's, like {@link SinkLoop}.
 */
final class Confirmations {

    private final SlotOrigin origin;
    /** End LSN of the last PostgreSQL transaction (or heartbeat) whose every event is in the current or an earlier Kafka transaction. */
    private Lsn completeThrough = Lsn.ZERO;
    /** The highest LSN a committed checkpoint allows the slot to confirm. */
    private Lsn recorded;

    Confirmations(Lsn recorded, SlotOrigin origin) {
        this.recorded = recorded;
        this.origin = origin;
    }

    /** Everything before {@code lsn} (a transaction's end, a heartbeat) is in the open or an earlier Kafka transaction. */
    void completeThrough(Lsn lsn) {
        if (lsn.isAfter(completeThrough)) {
            completeThrough = lsn;
        }
    }

    Lsn completeThrough() {
        return completeThrough;
    }

    /** True when confirming {@link #completeThrough} needs a checkpoint recording it first. */
    boolean needsRecord() {
        return completeThrough.isAfter(recorded);
    }

    /** The checkpoint of the Kafka transaction about to commit; {@link #committed} once it has. */
    Checkpoint checkpoint(Position lastSent, long epoch, String agentId, SnapshotState snapshot) {
        return new Checkpoint(lastSent, epoch, agentId, needsRecord() ? completeThrough : recorded, origin, snapshot);
    }

    void committed(Checkpoint checkpoint) {
        recorded = checkpoint.flushed();
    }
}
