package io.pgrelay.agent.slot;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.postgres.SlotState;

import java.util.Optional;

/**
 * Whether the cluster may stream from the slot as it is now, judged from the newest checkpoint in
 * Kafka and the slot in PostgreSQL. A cluster that has streamed never streams from a slot it did
 * not stream from before: changes between its checkpoint and such a slot's first position were
 * never captured, and streaming on would hide that.
 *
 * <p>How a recreated slot is told from the cluster's own: the cluster confirms a position to the
 * slot only after a checkpoint recording it ({@link Checkpoint#flushed}) has committed, so its own
 * slot's {@code confirmed_flush_lsn} is never past that; a slot created afterwards starts past it.
 */
public final class SlotCheck {

    private SlotCheck() {
    }

    /** Why the cluster must not stream from the slot. */
    public enum Problem {
        /** No slot of that name. */
        MISSING,
        /** {@code wal_status = lost}: the server removed WAL the slot still needed. */
        LOST,
        /** A slot of that name whose stream begins after the checkpoint: created anew since the cluster last streamed. */
        RECREATED
    }

    /** The judgement: {@code problem} null when the cluster may stream (or create the slot, when {@code create}). */
    public record Verdict(Problem problem, boolean create, String message) {
        static final Verdict STREAM = new Verdict(null, false, null);
        static final Verdict CREATE = new Verdict(null, true, null);

        public boolean refuses() {
            return problem != null;
        }
    }

    /**
     * @param checkpoint the newest checkpoint (empty: the cluster never wrote one — a new cluster)
     * @param slot       the slot as PostgreSQL shows it (empty: missing)
     */
    public static Verdict judge(String slotName, Optional<Checkpoint> checkpoint, Optional<SlotState> slot) {
        if (slot.isPresent() && slot.get().walLost()) {
            return refusal(Problem.LOST, "slot " + slotName + " is lost: the server removed WAL it needed (wal_status = lost;"
                    + " confirmed " + slot.get().confirmedFlushLsn() + ")" + checkpoint.map(c -> " and the cluster's checkpoint is at "
                    + c.position()).orElse("") + ": changes after that were not kept");
        }
        boolean streamed = checkpoint.map(Checkpoint::streamed).orElse(false);
        if (!streamed) {
            return slot.isEmpty() ? Verdict.CREATE : Verdict.STREAM;
        }
        Checkpoint c = checkpoint.get();
        String at = "the cluster's checkpoint is at " + c.position()
                + (c.flushed().isZero() ? "" : " (slot confirmed through " + c.flushed() + ")");
        if (slot.isEmpty()) {
            return refusal(Problem.MISSING, "slot " + slotName + " is missing but " + at
                    + ": changes committed since then would be lost if it were created anew");
        }
        SlotState s = slot.get();
        Lsn confirmed = s.confirmedFlushLsn();
        if (!c.flushed().isZero() && confirmed != null && confirmed.isAfter(c.flushed())) {
            return refusal(Problem.RECREATED, "slot " + slotName + " is missing: the slot of that name begins at " + confirmed
                    + ", after what this cluster confirmed (" + c.flushed() + "), so it was created anew; " + at
                    + ": changes committed in between were not captured");
        }
        return Verdict.STREAM;
    }

    private static Verdict refusal(Problem problem, String what) {
        return new Verdict(problem, false, what + ". Not streaming. Two ways out: set snapshot.mode: when_needed "
                + "(re-create the slot and re-snapshot every published table), or run "
                + "'init --config FILE --resnapshot' once");
    }
}
