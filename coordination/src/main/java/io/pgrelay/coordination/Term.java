package io.pgrelay.coordination;

import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One period of leadership, handed to {@link Leader#lead(Term)}. A term ends when {@code lead}
 * returns or throws; it can be revoked earlier by the election (ZooKeeper connection suspended or
 * lost, handover, the slot taken by another walsender, close). Revocation completes
 * {@link #revoked()} at once and interrupts the leading thread; the leader must then stop writing,
 * finish cleanly if it still can, and return.
 *
 * <p>Typical use by the agent:
 * <pre>{@code
 * election = LeaderElection.create(config, term -> {
 *     PGReplicationStream stream;
 *     try {
 *         stream = openStream();                     // START_REPLICATION
 *     } catch (SQLException e) {
 *         if (!SlotBusyException.isSlotBusy(e)) throw e;
 *         if (config.mode() == ZOOKEEPER) term.evictSlotHolder();   // we hold the lock: a stale walsender goes
 *         throw new SlotBusyException(slot, e);      // slot mode: someone else won, stay standby
 *     }
 *     long epoch = term.slotAcquired();              // fencing epoch for this term
 *     while (term.isValid()) { ...stream, commit to Kafka, flush the slot... }
 *     commitAndClose(stream);                        // handover: finish cleanly, then return
 * });
 * }</pre>
 */
public interface Term {

    /**
     * Call once the replication stream has started, i.e. this agent really holds the slot.
     * Assigns (slot mode: increments {@code pgrelay.clusters.epoch}) and returns this term's
     * epoch, publishes this agent as leader and starts watching that the slot stays ours. Calling
     * it again returns the same epoch.
     *
     * @throws IllegalStateException if the term was already revoked
     */
    long slotAcquired() throws Exception;

    /**
     * True when this agent is the cluster's rightful next leader before it even holds the slot —
     * it holds the ZooKeeper lock, or it is the named target of a handover — so it may fence the
     * previous leader's Kafka producer while it takes the slot rather than after. Were it wrong
     * (another agent won the slot after all), that leader's producer would be fenced and its term
     * end: a moment of unavailability, never a duplicate or a loss.
     */
    default boolean mayFenceBeforeSlot() {
        return false;
    }

    /**
     * The fencing epoch of this term: it only grows across the cluster.
     *
     * @throws IllegalStateException before {@link #slotAcquired()}
     */
    long epoch();

    /** False once the term was revoked or ended. By the time it returns true it may be stale. */
    boolean isValid();

    /** Completes (never exceptionally) the moment the term is revoked or ends. */
    CompletableFuture<Void> revoked();

    /** Why the term was revoked, once it was. */
    Optional<Revocation> revocation();

    /**
     * Terminates the walsender that currently holds the slot ({@code pg_terminate_backend}),
     * logging its pid. For a leader that holds the ZooKeeper lock while a stale walsender from a
     * former leader still holds the slot; the caller retries {@code START_REPLICATION} after it.
     *
     * @return the pid terminated, or empty if the slot was free
     */
    Optional<Integer> evictSlotHolder() throws SQLException;
}
