package io.pgrelay.coordination;

/**
 * What this agent does while it leads; the agent supplies it, the election decides when it runs.
 * Modelled on Curator's {@code LeaderSelectorListener.takeLeadership}.
 */
@FunctionalInterface
public interface Leader {

    /**
     * Runs on the election's thread for as long as this agent leads. Returning or throwing ends
     * the term. The implementation must stop promptly once {@link Term#revoked()} completes (the
     * thread is also interrupted): until it returns, a revoked leader may still be writing while
     * another agent is being elected.
     *
     * <p>Call {@link Term#slotAcquired()} as soon as the replication stream has started, and use
     * the epoch it returns. Throw {@link SlotBusyException} when starting the stream fails
     * because another walsender holds the slot (SQLSTATE 55006).
     */
    void lead(Term term) throws Exception;

    /**
     * Whether a term started now would start fast (clients connected, caches warm). In slot mode a
     * standby that is not ready lets a ready one have the first try at a freed slot, and races
     * itself only if the slot is still free a poll interval later — after a rolling restart the
     * freshly started agent would otherwise often win and take longest. An agent that sees no other
     * live member in the registry does not wait.
     */
    default boolean readyToLead() {
        return true;
    }

    /**
     * A handover in progress names this agent as the next leader: a hint to get ready for a term
     * that will probably start within moments (open what a takeover would open). It may never
     * come, and the hint is void after {@code window}; called on an election thread, so it must
     * not block.
     */
    default void handoverComing(java.time.Duration window) {
    }
}
