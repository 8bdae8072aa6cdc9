package io.pgrelay.agent;

import io.pgrelay.agent.failure.Failures;
import io.pgrelay.agent.leader.StreamResources;
import io.pgrelay.agent.leader.Streamer;
import io.pgrelay.agent.observe.AgentState;
import io.pgrelay.agent.observe.AgentState.AgentRole;
import io.pgrelay.agent.observe.AgentView;
import io.pgrelay.agent.snapshot.SnapshotRequests;
import io.pgrelay.agent.observe.FailoverWatcher;
import io.pgrelay.agent.observe.Heartbeat;
import io.pgrelay.agent.observe.SlotWatcher;
import io.pgrelay.agent.slot.SlotSetup;
import io.pgrelay.agent.core.Backoff;
import io.pgrelay.agent.alert.AlertRules;
import io.pgrelay.agent.alert.AlertWebhook;
import io.pgrelay.agent.config.CoordinationConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.http.AdminServer;
import io.pgrelay.agent.pipeline.StreamProgress;
import io.pgrelay.agent.pipeline.StreamStats;
import io.pgrelay.agent.postgres.FailoverSlots;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.slot.SlotCheck;
import io.pgrelay.agent.slot.SlotGuard;
import io.pgrelay.coordination.ElectionConfig;
import io.pgrelay.coordination.LeaderElection;
import io.pgrelay.coordination.Member;
import io.pgrelay.coordination.Role;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running agent, and the one place that wires its parts: the leader election (coordination),
 * the {@link Streamer} that runs the pipeline while this agent leads, the {@link SlotWatcher}, and
 * the admin HTTP server. SIGTERM stops it cleanly: a leader commits, flushes the slot and lets a
 * standby take over.
 */
public final class Agent implements AgentState {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(20);

    private final PgRelayConfig config;
    private final PgConnections connections;
    private final StreamStats stats = new StreamStats();
    private final StreamProgress progress = new StreamProgress();
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final long startedAtMillis = System.currentTimeMillis();
    private volatile AgentRole role = AgentRole.STARTING;
    private volatile LeaderElection election;
    private volatile SlotWatcher slotWatcher;
    private volatile SlotGuard guard;
    private volatile FailoverWatcher failoverWatcher;
    private Streamer streamer;
    private final AlertRules alerts;
    private final AlertWebhook webhook;
    private final AtomicLong leadershipChanges = new AtomicLong();
    private String lastLeader; // guarded by this (noteLeader)

    Agent(PgRelayConfig config) {
        this.config = config;
        this.connections = PgConnections.of(config);
        this.alerts = new AlertRules(config.alerts(), config.postgres().slot());
        this.webhook = new AlertWebhook(config.alerts().webhook(), config.cluster(), config.agent().id(), this::isAlertSender);
    }

    /** Runs the agent until SIGTERM or a fatal failure; returns the process exit status. */
    public static int run(PgRelayConfig config) {
        Agent agent = new Agent(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.requestStop();
            try {
                if (!agent.stopped.await(SHUTDOWN_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS)) {
                    log.warn("agent {}: did not stop in time; exiting anyway", config.agent().id());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "pgrelay-shutdown"));
        try {
            return agent.runUntilStopped();
        } finally {
            agent.stopped.countDown();
        }
    }

    /** {@code agent.tls}, {@code agent.tokens}, {@code agent.adminToken} and {@code agent.protectReads} for the HTTP server. */
    static AdminServer.HttpAccess httpAccess(io.pgrelay.agent.config.AgentConfig a) {
        javax.net.ssl.SSLContext tls = a.tls().enabled() ? io.pgrelay.common.tls.TlsContexts.server(a.tls().cert(), a.tls().key()) : null;
        return new AdminServer.HttpAccess(tls, new io.pgrelay.agent.http.BearerTokens(a.adminTokens(), a.tokens().read()),
                a.protectReads());
    }

    void requestStop() {
        stopRequested.countDown();
    }

    int runUntilStopped() {
        String unverified = connections.unverifiedServerWarning();
        if (unverified != null) {
            log.warn("postgres: {}", unverified);
        }
        StreamResources resources = new StreamResources(config, connections);
        // Kafka clients take the longest to build at start: under way while the server is checked
        resources.prepareAhead();
        guard = new SlotGuard(config, connections, resources::latestCheckpoint, this::isAlertSender);
        if (!prepareServer()) {
            guard.close();
            resources.close();
            return fatal.get() != null ? 1 : 0;
        }
        streamer = new Streamer(config, resources, stats, progress, guard, this::fatal);
        streamer.warmUpWhileStandingBy();
        AdminServer admin = null;
        Heartbeat heartbeat = null;
        try (SlotWatcher watcher = new SlotWatcher(connections, config.postgres().slot(), config.coordination().pollInterval(),
                this::observe);
             FailoverWatcher failover = new FailoverWatcher(connections, config.postgres().slot())) {
            slotWatcher = watcher;
            watcher.start();
            failoverWatcher = failover;
            failover.start();
            if (config.heartbeat().enabled()) {
                heartbeat = new Heartbeat(connections, config.postgres().slot(), config.heartbeat().interval(), this::streaming);
                heartbeat.start();
            }
            election = LeaderElection.create(electionConfig(), streamer);
            election.addListener(new io.pgrelay.coordination.LeadershipListener() {
                @Override
                public void isLeader(long epoch) {
                    noteLeader(config.agent().id());
                    role = AgentRole.LEADER;
                }

                @Override
                public void notLeader() {
                    if (role == AgentRole.LEADER) {
                        role = AgentRole.STANDBY;
                    }
                }
            }, Runnable::run);
            admin = AdminServer.start(config.agent().http().host(), config.agent().http().port(), httpAccess(config.agent()),
                    new AgentView(this));
            election.start();
            if (role == AgentRole.STARTING) {
                role = AgentRole.STANDBY;
            }
            stopRequested.await();
        } catch (Exception e) {
            if (fatal.get() == null) {
                log.error("agent {}: {}", config.agent().id(), Failures.messageOf(e));
                fatal.set(e);
            }
        } finally {
            role = AgentRole.STOPPING;
            if (heartbeat != null) {
                heartbeat.close();
            }
            streamer.shutdown(SHUTDOWN_TIMEOUT);
            if (election != null) {
                election.close();
            }
            guard.close();
            resources.close();
            if (admin != null) {
                admin.close();
            }
            webhook.close();
            connections.close();
        }
        log.info("agent {} stopped", config.agent().id());
        return fatal.get() != null ? 1 : 0;
    }

    /**
     * Checks the server and creates the publication and slot when missing, retrying while the
     * server cannot be reached. Returns false when the agent must not go on.
     */
    private boolean prepareServer() {
        Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));
        while (stopRequested.getCount() > 0) {
            try {
                SlotSetup.ensure(config, connections);
                guard.atStart();
                return true;
            } catch (Exception e) {
                if (Failures.classify(e) == Failures.Kind.FATAL) {
                    for (String line : Failures.messageLines(e)) {
                        log.error("slot {}: {}", config.postgres().slot(), line);
                    }
                    fatal.set(e);
                    return false;
                }
                log.warn("slot {}: {}; retrying in {} ms", config.postgres().slot(), Failures.messageOf(e), backoff.current().toMillis());
                try {
                    if (stopRequested.await(backoff.current().toMillis(), TimeUnit.MILLISECONDS)) {
                        return false;
                    }
                } catch (InterruptedException ie) {
                    return false;
                }
                backoff.increase();
            }
        }
        return false;
    }

    /** Counts a change of the cluster's leader, as this agent learns of it (its own election at once, others' on the next look). */
    private synchronized void noteLeader(String leader) {
        if (!leader.equals(lastLeader)) {
            leadershipChanges.incrementAndGet();
            lastLeader = leader;
        }
    }

    /** Each look at the slot (watcher thread): notes leader changes, evaluates the alerts, notifies. */
    private void observe(SlotWatcher.SlotSnapshot slot) {
        LeaderElection e = election;
        Optional<String> leader = e == null ? Optional.empty() : e.leader();
        leader.ifPresent(this::noteLeader);
        SlotGuard g = guard;
        if (g != null && slot.reachable() && (!slot.exists() || "lost".equals(slot.walStatus()))) {
            g.lookAgain();
        }
        String refusal = g == null ? null : g.refusal().map(SlotCheck.Verdict::message).orElse(null);
        var observation = new AlertRules.Observation(slot.reachable(), slot.exists(), slot.active(), slot.walStatus(),
                slot.lagBytes(), slot.lagSeconds(), leader.isPresent(), refusal);
        for (AlertRules.Change change : alerts.evaluate(observation, Instant.now())) {
            var rule = change.alert().rule();
            if (change.firing()) {
                log.warn("alert {} ({}) firing: {}", rule.alertName, rule.severity, change.alert().summary());
            } else {
                log.info("alert {} ({}) resolved", rule.alertName, rule.severity);
            }
            webhook.notify(change);
        }
    }

    /**
     * Whether this agent speaks for the cluster now — sends its webhook notifications, re-creates a
     * lost slot ({@code when_needed}): the leader does; with no leader, the live member with the
     * lowest id (live standbys all see the same member list, so they agree), unless that list already
     * names another agent as leader of a newer term (a takeover this agent's election has not seen yet:
     * its notifications, a lag resolved by the new leader's catching up, are the leader's). Before the election
     * has started (an agent's start), every agent does. When the member list cannot be read (PostgreSQL unreachable) every agent sends:
     * a duplicate notification is better than none.
     */
    boolean isAlertSender() {
        LeaderElection e = election;
        if (e == null) {
            return false;
        }
        if (e.hasLeadership()) {
            return true;
        }
        if (e.leader().isPresent()) {
            return false;
        }
        try {
            return speaksWithoutLeader(config.agent().id(), e.epoch(), e.members());
        } catch (Exception ex) {
            log.debug("cannot read the cluster's members; sending the notification anyway: {}", ex.toString());
            return true;
        }
    }

    /**
     * With no leader known to this agent's election: the live member with the lowest id speaks, unless
     * another agent already published itself as leader of a term newer than any this election has seen
     * (a takeover it has not seen yet). A leader row of a term it has seen may be a dead leader's, still
     * inside the registry's liveness window: deferring to it would leave nobody to speak.
     */
    static boolean speaksWithoutLeader(String self, long knownEpoch, List<Member> members) {
        if (members.stream().anyMatch(m -> m.role() == Role.LEADER && m.epoch() > knownEpoch && !m.id().equals(self))) {
            return false;
        }
        return members.stream()
                .filter(m -> m.role() != Role.STOPPING)
                .map(Member::id)
                .min(Comparator.naturalOrder())
                .map(id -> id.equals(self))
                .orElse(true);
    }

    private void fatal(Throwable t) {
        fatal.compareAndSet(null, t);
        requestStop();
    }

    private ElectionConfig electionConfig() {
        CoordinationConfig c = config.coordination();
        ElectionConfig.Builder b = ElectionConfig.builder(config.cluster(), config.agent().id())
                .http(config.agent().url())
                .slot(config.postgres().slot())
                .postgres(connections::borrow)
                .pollInterval(c.pollInterval())
                .hangTimeout(c.hangTimeout());
        if (c.mode() == CoordinationConfig.Mode.ZOOKEEPER) {
            b.zookeeper(c.zookeeper().connect()).sessionTimeout(c.zookeeper().sessionTimeout());
            if (c.zookeeper().authenticates()) {
                b.zookeeperAuth(new io.pgrelay.coordination.ZooKeeperAuth(c.zookeeper().username(), c.zookeeper().password().reveal()));
            }
            if (c.zookeeper().tls()) {
                b.zookeeperTls(new io.pgrelay.coordination.ZooKeeperTls(c.zookeeper().tlsCa()));
            }
        }
        return b.build();
    }

    @Override
    public PgRelayConfig config() {
        return config;
    }

    @Override
    public SnapshotRequests snapshotRequests() {
        return new SnapshotRequests(connections, config.postgres().publication());
    }

    @Override
    public StreamStats stats() {
        return stats;
    }

    @Override
    public StreamProgress progress() {
        return progress;
    }

    @Override
    public AgentRole role() {
        return role;
    }

    @Override
    public LeaderElection election() {
        return election;
    }

    /** Why this agent refuses to stream from the slot now, or empty. */
    @Override
    public Optional<SlotCheck.Verdict> slotRefusal() {
        SlotGuard g = guard;
        return g == null ? Optional.empty() : g.refusal();
    }

    @Override
    public long slotRecreations() {
        SlotGuard g = guard;
        return g == null ? 0 : g.recreations();
    }

    @Override
    public SlotWatcher.SlotSnapshot slot() {
        SlotWatcher w = slotWatcher;
        return w == null ? SlotWatcher.SlotSnapshot.UNKNOWN : w.latest();
    }

    /** Whether the slot would survive a promotion of a standby; null while not known. */
    @Override
    public FailoverSlots.Readiness failover() {
        FailoverWatcher w = failoverWatcher;
        return w == null ? null : w.latest();
    }

    /** A standby that could take over at once: its Kafka clients are prepared (see {@link Streamer#readyToLead}). */
    @Override
    public boolean readyToLead() {
        return streamer != null && streamer.readyToLead();
    }

    @Override
    public boolean streaming() {
        return streamer != null && streamer.streaming();
    }

    @Override
    public AlertRules alerts() {
        return alerts;
    }

    @Override
    public long leadershipChanges() {
        return leadershipChanges.get();
    }

    @Override
    public long uptimeSeconds() {
        return (System.currentTimeMillis() - startedAtMillis) / 1000;
    }
}
