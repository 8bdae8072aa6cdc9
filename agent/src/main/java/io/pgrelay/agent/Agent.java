package io.pgrelay.agent;

import io.pgrelay.agent.config.CoordinationConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.http.AdminServer;
import io.pgrelay.agent.pipeline.StreamProgress;
import io.pgrelay.agent.pipeline.StreamStats;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.coordination.ElectionConfig;
import io.pgrelay.coordination.LeaderElection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running agent, and the one place that wires its parts: the leader election (coordination),
 * the {@link Streamer} that runs the pipeline while this agent leads, the {@link SlotWatcher}, and
 * the admin HTTP server. SIGTERM stops it cleanly: a leader commits, flushes the slot and lets a
 * standby take over.
 */
public final class Agent {

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
    private Streamer streamer;

    enum AgentRole { STARTING, STANDBY, LEADER, STOPPING }

    Agent(PgRelayConfig config) {
        this.config = config;
        this.connections = PgConnections.of(config);
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

    void requestStop() {
        stopRequested.countDown();
    }

    int runUntilStopped() {
        if (!prepareServer()) {
            return fatal.get() != null ? 1 : 0;
        }
        StreamResources resources = new StreamResources(config, connections);
        streamer = new Streamer(config, resources, stats, progress, this::fatal);
        AdminServer admin = null;
        try (SlotWatcher watcher = new SlotWatcher(connections, config.postgres().slot(), config.coordination().pollInterval())) {
            slotWatcher = watcher;
            watcher.start();
            election = LeaderElection.create(electionConfig(), streamer);
            election.addListener(new io.pgrelay.coordination.LeadershipListener() {
                @Override
                public void isLeader(long epoch) {
                    role = AgentRole.LEADER;
                }

                @Override
                public void notLeader() {
                    if (role == AgentRole.LEADER) {
                        role = AgentRole.STANDBY;
                    }
                }
            }, Runnable::run);
            admin = AdminServer.start(config.agent().http().host(), config.agent().http().port(),
                    config.agent().adminToken().reveal(), new AgentView(this));
            resources.prepareAhead();
            election.start();
            if (role == AgentRole.STARTING) {
                role = AgentRole.STANDBY;
            }
            stopRequested.await();
        } catch (Exception e) {
            if (fatal.get() == null) {
                log.error("agent {}: {}", config.agent().id(), messageOf(e));
                fatal.set(e);
            }
        } finally {
            role = AgentRole.STOPPING;
            streamer.shutdown(SHUTDOWN_TIMEOUT);
            if (election != null) {
                election.close();
            }
            resources.close();
            if (admin != null) {
                admin.close();
            }
        }
        log.info("agent {} stopped", config.agent().id());
        return fatal.get() != null ? 1 : 0;
    }

    /**
     * Checks the server and creates the publication and slot when missing, retrying while the
     * server cannot be reached. Returns false when the agent must not go on.
     */
    private boolean prepareServer() {
        Duration backoff = Duration.ofMillis(500);
        while (stopRequested.getCount() > 0) {
            try {
                SlotSetup.ensure(config, connections);
                return true;
            } catch (Exception e) {
                if (Failures.classify(e) == Failures.Kind.FATAL) {
                    for (String line : messageLines(e)) {
                        log.error("slot {}: {}", config.postgres().slot(), line);
                    }
                    fatal.set(e);
                    return false;
                }
                log.warn("slot {}: {}; retrying in {} ms", config.postgres().slot(), messageOf(e), backoff.toMillis());
                try {
                    if (stopRequested.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                        return false;
                    }
                } catch (InterruptedException ie) {
                    return false;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : backoff.multipliedBy(2);
            }
        }
        return false;
    }

    private void fatal(Throwable t) {
        fatal.compareAndSet(null, t);
        requestStop();
    }

    private ElectionConfig electionConfig() {
        CoordinationConfig c = config.coordination();
        ElectionConfig.Builder b = ElectionConfig.builder(config.cluster(), config.agent().id())
                .http("http://" + config.agent().http())
                .slot(config.postgres().slot())
                .postgres(() -> {
                    try {
                        return connections.open();
                    } catch (PgConnectException e) {
                        throw new java.sql.SQLException(e.getMessage(), e.sqlState(), e);
                    }
                })
                .pollInterval(c.pollInterval())
                .hangTimeout(c.hangTimeout());
        if (c.mode() == CoordinationConfig.Mode.ZOOKEEPER) {
            b.zookeeper(c.zookeeper().connect()).sessionTimeout(c.zookeeper().sessionTimeout());
        }
        return b.build();
    }

    PgRelayConfig config() {
        return config;
    }

    StreamStats stats() {
        return stats;
    }

    StreamProgress progress() {
        return progress;
    }

    AgentRole role() {
        return role;
    }

    LeaderElection election() {
        return election;
    }

    SlotWatcher.SlotSnapshot slot() {
        SlotWatcher w = slotWatcher;
        return w == null ? SlotWatcher.SlotSnapshot.UNKNOWN : w.latest();
    }

    boolean streaming() {
        return streamer != null && streamer.streaming();
    }

    long uptimeSeconds() {
        return (System.currentTimeMillis() - startedAtMillis) / 1000;
    }

    /** The failure's own words, with its causes', never a stack trace. */
    static String messageOf(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }

    /** One line per problem: a fatal failure may carry several (one per failed preflight check). */
    static List<String> messageLines(Throwable e) {
        return messageOf(e).lines().filter(l -> !l.isBlank()).toList();
    }
}
