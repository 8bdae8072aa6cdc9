package io.pgrelay.coordination;

/**
 * Why a {@link Term} ended early, and in words for the log. The leader acts on {@link #reason()}:
 * after a handover or a close it still holds the slot and finishes cleanly; after any other
 * revocation another agent may lead already, so it writes nothing more.
 */
public record Revocation(Reason reason, String detail) {

    public enum Reason {
        /** This agent hands leadership over (the admin API or a planned move). */
        HANDOVER,
        /** The election is closing: the agent shuts down. */
        ELECTION_CLOSED,
        /** The slot is no longer held by this term's walsender. */
        SLOT_LOST,
        /**
         * This agent could not confirm for {@code hangTimeout} that its walsender still holds the
         * slot: PostgreSQL is unreachable or silent (see {@code SlotLease}).
         */
        SLOT_UNCONFIRMED,
        /** The ZooKeeper session was suspended or lost. */
        ZOOKEEPER_CONNECTION,
        /** {@code lead} returned or threw. */
        TERM_ENDED
    }

    /** True when the leader may still commit what it holds and flush the slot before it lets go. */
    public boolean finishesCleanly() {
        return reason == Reason.HANDOVER || reason == Reason.ELECTION_CLOSED;
    }

    @Override
    public String toString() {
        return detail;
    }
}
