package io.pgrelay.coordination;

/**
 * Told when this agent's own leadership changes, on the executor given to
 * {@link LeaderElection#addListener}. Like Curator's {@code LeaderLatchListener}: calls come only
 * on change, in order, and by the time one runs the state may already have moved on.
 */
public interface LeadershipListener {

    /** This agent holds the slot and leads under {@code epoch}. */
    void isLeader(long epoch);

    /** This agent's term ended (returned, failed, revoked or closed). */
    void notLeader();
}
