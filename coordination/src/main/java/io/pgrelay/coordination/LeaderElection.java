package io.pgrelay.coordination;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Decides when this agent leads: races for the replication slot ({@link ElectionConfig.Mode#SLOT})
 * or holds a ZooKeeper lock ({@link ElectionConfig.Mode#ZOOKEEPER}), and runs the caller's
 * {@link Leader} on the election's own thread while it does. Shaped like Curator's
 * {@code LeaderSelector}: {@link #start()} once, {@link #close()} once, listeners told only on
 * change on the executor the caller picks.
 *
 * <p>Everything this class reports is a snapshot: by the time {@link #hasLeadership()} returns
 * true, leadership may already be gone. Fencing is what keeps a stale leader harmless: the epoch
 * only grows, and Kafka's transactional id fences a zombie producer.
 */
public abstract class LeaderElection implements AutoCloseable {

    /** Lifecycle, as in Curator's recipes. */
    public enum State { LATENT, STARTED, CLOSED }

    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

    private record Registration(LeadershipListener listener, Executor executor) {
    }

    final ElectionConfig config;
    final Leader leader;
    final MemberRegistry registry;
    final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    final ScheduledExecutorService ticker;
    /**
     * Checks the leader's {@link SlotLease} on a thread of its own: the ticker, which renews the
     * lease, is the thread a silent network holds up.
     */
    private final ScheduledExecutorService leaseCheck;
    private final List<Registration> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<LeaderTerm> term = new AtomicReference<>();
    /** Latest epoch known cluster-wide; written by the ticker and by this agent's terms. */
    volatile long knownEpoch;
    /** The leader's id as last read by the ticker. */
    volatile Optional<String> knownLeader = Optional.empty();
    /** After a handover this agent stays standby until then (System.nanoTime()). */
    private volatile long holdBackUntilNanos = System.nanoTime();

    LeaderElection(ElectionConfig config, Leader leader, MemberRegistry registry) {
        this.config = config;
        this.leader = Objects.requireNonNull(leader, "leader");
        this.registry = registry;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pgrelay-election-ticker-" + config.agentId()));
        this.leaseCheck = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pgrelay-slot-lease-" + config.agentId()));
    }

    /** An election in the mode the config names; call {@link #start()} to join. */
    public static LeaderElection create(ElectionConfig config, Leader leader) {
        return switch (config.mode()) {
            case SLOT -> new SlotElection(config, leader);
            case ZOOKEEPER -> new ZooKeeperElection(config, leader);
        };
    }

    /** Joins the cluster: publishes this member and starts competing. Only once. */
    public final void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("cannot start an election in state " + state.get());
        }
        prepare();
        registry.start(Role.STARTING);
        doStart();
        registry.publish(Role.STANDBY, knownEpoch);
        long tick = config.pollInterval().toMillis();
        ticker.scheduleWithFixedDelay(this::tick, 0, tick, TimeUnit.MILLISECONDS);
        long leaseTick = Math.max(50, Math.min(tick, config.hangTimeout().toMillis() / 10));
        leaseCheck.scheduleWithFixedDelay(this::checkLease, leaseTick, leaseTick, TimeUnit.MILLISECONDS);
    }

    /** Revokes the term if any, leaves the cluster. Idempotent. */
    @Override
    public final void close() {
        if (!state.compareAndSet(State.STARTED, State.CLOSED)) {
            state.set(State.CLOSED);
            return;
        }
        LeaderTerm t = term.get();
        if (t != null) {
            t.revoke(Revocation.Reason.ELECTION_CLOSED, "election closed");
        }
        try {
            registry.publish(Role.STOPPING, knownEpoch);
        } catch (Exception e) {
            log.debug("could not publish stopping: {}", e.toString());
        }
        doClose();
        leaseCheck.shutdownNow();
        ticker.shutdownNow();
        registry.close();
    }

    public final State state() {
        return state.get();
    }

    /**
     * True while this agent holds a valid term whose leader has reported {@link Term#slotAcquired()}
     * (so the epoch is assigned). It may be false the next moment.
     */
    public final boolean hasLeadership() {
        LeaderTerm t = term.get();
        return t != null && t.isValid() && t.slotHeld();
    }

    /** The id of the current leader as far as this agent knows (refreshed every poll interval). */
    public final Optional<String> leader() {
        return hasLeadership() ? Optional.of(config.agentId()) : knownLeader;
    }

    /** The highest epoch this agent has seen. */
    public final long epoch() {
        return knownEpoch;
    }

    public final ElectionConfig config() {
        return config;
    }

    /** Live members, this one included. */
    public final List<Member> members() throws Exception {
        return registry.members();
    }

    public final void addListener(LeadershipListener listener, Executor executor) {
        listeners.add(new Registration(Objects.requireNonNull(listener), Objects.requireNonNull(executor)));
    }

    public final void removeListener(LeadershipListener listener) {
        listeners.removeIf(r -> r.listener() == listener);
    }

    /**
     * Hands leadership over: records the intent for {@code handoverWindow}, revokes this term (the
     * leader finishes cleanly and returns from {@code lead}) and keeps this agent standby for the
     * window. With a target, only that agent may take over during the window; without, any
     * standby may. Returns once the term is revoked, not when the new leader streams.
     *
     * @throws IllegalStateException    if this agent does not lead (HTTP 409)
     * @throws IllegalArgumentException if {@code to} is this agent or not a live member (HTTP 400)
     */
    public final void handover(Optional<String> to) throws Exception {
        LeaderTerm t = term.get();
        if (t == null || !t.isValid() || !t.slotHeld()) {
            throw new IllegalStateException("agent " + config.agentId() + " is not the leader of cluster "
                    + config.cluster() + " (leader: " + knownLeader.orElse("none") + ")");
        }
        if (to.isPresent()) {
            String target = to.get();
            List<Member> live = registry.members();
            if (target.equals(config.agentId())) {
                throw new IllegalArgumentException("cannot hand over to " + target + ": it is this agent, the leader");
            }
            if (live.stream().noneMatch(m -> m.id().equals(target))) {
                throw new IllegalArgumentException("cannot hand over to " + target + ": not a live member of cluster "
                        + config.cluster() + " (live: " + live.stream().map(Member::id).toList() + ")");
            }
        }
        Duration window = config.handoverWindow();
        holdBackUntilNanos = System.nanoTime() + window.toNanos();
        recordHandover(to, window);
        awaitHandoverOrder(to);   // still streaming meanwhile: the wait is not part of the gap
        log.info("agent {} hands over leadership of cluster {} to {} (epoch {}, window {} ms)",
                config.agentId(), config.cluster(), to.orElse("any standby"), t.epoch(), window.toMillis());
        t.revoke(Revocation.Reason.HANDOVER, "handover to " + to.orElse("any standby"));
    }

    final boolean inLocalHoldBack() {
        return System.nanoTime() - holdBackUntilNanos < 0;
    }

    /**
     * Runs one term on the calling thread: {@code lead}, then cleanup and notifications.
     *
     * @return true if the leader really held the slot (called {@code slotAcquired})
     */
    final boolean runTerm(boolean rightful) {
        LeaderTerm t = new LeaderTerm(this, Thread.currentThread(), rightful);
        term.set(t);
        if (state.get() != State.STARTED) {
            t.revoke(Revocation.Reason.ELECTION_CLOSED, "election closed");
        }
        try {
            leader.lead(t);
        } catch (SlotBusyException e) {
            log.debug("agent {}: {}", config.agentId(), e.getMessage());
        } catch (InterruptedException e) {
            log.info("agent {}: term interrupted ({})", config.agentId(), t.revocation().map(Revocation::toString).orElse("no reason"));
        } catch (Exception e) {
            log.warn("agent {}: leading cluster {} failed: {}", config.agentId(), config.cluster(), e.toString(), e);
        } finally {
            t.ended();
            term.compareAndSet(t, null);
        }
        if (t.walsenderPid() != null) {
            // Waking the standbys goes through PostgreSQL: pointless when it did not answer, and it
            // would hold this agent's role at leader until the connection's socket timeout.
            boolean unreachable = t.revocation().map(r -> r.reason() == Revocation.Reason.SLOT_UNCONFIRMED).orElse(false);
            if (!unreachable) {
                slotReleased();
            }
            log.info("agent {} stopped leading cluster {} (epoch {}): {}", config.agentId(), config.cluster(),
                    t.epoch(), t.revocation().map(Revocation::toString).orElse("returned"));
            publishSoon(Role.STANDBY);
            fire(LeadershipListener::notLeader);
            return true;
        }
        return false;
    }

    /** Called by the term once the slot is held and the epoch assigned. */
    final void becameLeader(LeaderTerm t) {
        knownEpoch = Math.max(knownEpoch, t.epoch());
        knownLeader = Optional.of(config.agentId());
        log.info("agent {} leads cluster {} with epoch {} (slot \"{}\", walsender pid {})", config.agentId(),
                config.cluster(), t.epoch(), config.slot(), t.walsenderPid());
        publishSoon(Role.LEADER);
        long epoch = t.epoch();
        fire(l -> l.isLeader(epoch));
    }

    /**
     * Every poll interval: check the slot is still ours (which renews the leader's lease), then
     * heartbeat and refresh what is known.
     */
    private void tick() {
        try {
            checkSlot();
        } catch (Exception e) {
            log.debug("agent {}: could not check the slot: {}", config.agentId(), e.toString());
        }
        try {
            registry.heartbeat();
            refreshKnown();
        } catch (Exception e) {
            log.debug("agent {}: tick failed: {}", config.agentId(), e.toString());
        }
    }

    /** While leading: the slot must still be held by our walsender; each look that says so renews the lease. */
    private void checkSlot() throws Exception {
        LeaderTerm t = term.get();
        Integer ours = t == null ? null : t.walsenderPid();
        if (ours == null || !t.isValid()) {
            return;
        }
        long started = System.nanoTime();
        Integer holder;
        try (Connection c = config.postgres().open()) {
            holder = SlotQueries.holderPid(c, config.slot());
        }
        if (ours.equals(holder)) {
            t.slotConfirmed(started);
        } else {
            t.revoke(Revocation.Reason.SLOT_LOST, "slot \"" + config.slot() + "\" no longer held by our walsender pid " + ours
                    + " (now " + (holder == null ? "free" : "pid " + holder) + ")");
        }
    }

    /**
     * Ends the term of a leader that could not confirm its slot for {@code hangTimeout} (see
     * {@link SlotLease}): by then slot-mode standbys evict its walsender, and in zookeeper mode
     * nobody else may lead while it keeps the lock.
     */
    private void checkLease() {
        LeaderTerm t = term.get();
        SlotLease lease = t == null ? null : t.lease();
        long now = System.nanoTime();
        if (lease == null || !t.isValid() || !lease.expired(now)) {
            return;
        }
        String why = "could not confirm for " + lease.unconfirmedFor(now).toMillis() + " ms that walsender pid " + t.walsenderPid()
                + " still holds slot \"" + config.slot() + "\" (hangTimeout " + config.hangTimeout().toMillis()
                + " ms): PostgreSQL is unreachable or not answering";
        log.warn("agent {}: {}; abandoning the term (epoch {})", config.agentId(), why, t.epoch());
        t.revoke(Revocation.Reason.SLOT_UNCONFIRMED, why);
    }

    final LeaderTerm currentTerm() {
        return term.get();
    }

    /**
     * Publishes the role on the ticker's thread, in order with the heartbeats: the registry is
     * for people and dashboards, and a takeover (or, in ZooKeeper mode, the lock's release at the
     * end of a term) must not wait for its write.
     */
    final void publishSoon(Role role) {
        try {
            ticker.execute(() -> publishQuietly(role));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("agent {}: closed; not publishing role {}", config.agentId(), role.wireName());
        }
    }

    final void publishQuietly(Role role) {
        try {
            registry.publish(role, knownEpoch);
        } catch (Exception e) {
            log.warn("agent {}: could not publish role {}: {}", config.agentId(), role.wireName(), e.toString());
        }
    }

    private void fire(java.util.function.Consumer<LeadershipListener> call) {
        for (Registration r : listeners) {
            try {
                r.executor().execute(() -> call.accept(r.listener()));
            } catch (RuntimeException e) {
                log.warn("leadership listener executor rejected a call: {}", e.toString());
            }
        }
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Right after a term that held the slot has ended, on the thread that ran it. */
    void slotReleased() {
    }

    /** Before the registry starts: connect what the registry needs. */
    void prepare() throws Exception {
    }

    abstract void doStart() throws Exception;

    abstract void doClose();

    /** Assigns the epoch of a term whose leader now holds the slot; {@code c} is open to PostgreSQL. */
    abstract long assignEpoch(LeaderTerm t, Connection c) throws Exception;

    abstract void recordHandover(Optional<String> to, Duration window) throws Exception;

    /**
     * Between recording a handover and stopping, while this agent still streams: waits (briefly)
     * until the election would pass leadership straight to {@code to}.
     */
    void awaitHandoverOrder(Optional<String> to) throws Exception {
    }

    /** Reads the cluster's leader and epoch into {@link #knownLeader} and {@link #knownEpoch}. */
    abstract void refreshKnown() throws Exception;
}
