package io.pgrelay.agent;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.pipeline.Pipeline;
import io.pgrelay.agent.pipeline.StreamProgress;
import io.pgrelay.agent.pipeline.StreamStats;
import io.pgrelay.agent.postgres.PgConnections;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A running agent: wires the pipeline, leadership and (later) the admin server. The agent's main
 * thread streams while this agent leads and waits while another does; SIGTERM stops it cleanly.
 */
public final class Agent {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final PgRelayConfig config;
    private final StreamStats stats = new StreamStats();
    private final StreamProgress progress = new StreamProgress();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile Pipeline current;

    Agent(PgRelayConfig config) {
        this.config = config;
    }

    /** Runs the agent until SIGTERM or a fatal failure; returns the process exit status. */
    public static int run(PgRelayConfig config) {
        Agent agent = new Agent(config);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.stop();
            try {
                if (!agent.stopped.await(30, TimeUnit.SECONDS)) {
                    log.warn("agent {}: did not stop within 30 s; exiting anyway", config.agent().id());
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

    void stop() {
        stopping = true;
        Pipeline p = current;
        if (p != null) {
            p.stop();
        }
    }

    int runUntilStopped() {
        PgConnections connections = PgConnections.of(config);
        StreamResources resources = new StreamResources(config, connections);
        Duration backoff = Duration.ofMillis(500);
        boolean announcedStandby = false;
        while (!stopping) {
            try {
                SlotSetup.ensure(config, connections);
                Pipeline pipeline = new Pipeline(resources.pipelineSettings(), resources, stats, progress);
                current = pipeline;
                if (stopping) {
                    break;
                }
                pipeline.run(new Pipeline.Lease() {
                    @Override
                    public long slotAcquired() {
                        return System.currentTimeMillis();
                    }

                    @Override
                    public boolean isValid() {
                        return true;
                    }
                });
                backoff = Duration.ofMillis(500);
                announcedStandby = false;
            } catch (Exception e) {
                switch (Failures.classify(e)) {
                    case SLOT_BUSY -> {
                        if (!announcedStandby) {
                            log.info("slot {}: held by another agent; standing by", config.postgres().slot());
                            announcedStandby = true;
                        }
                        sleep(config.coordination().pollInterval());
                    }
                    case FENCED -> {
                        log.warn("slot {}: {}; standing by", config.postgres().slot(), e.getMessage());
                        sleep(config.coordination().pollInterval());
                    }
                    case FATAL -> {
                        for (String line : messageLines(e)) {
                            log.error("slot {}: {}", config.postgres().slot(), line);
                        }
                        return 1;
                    }
                    case RETRIABLE -> {
                        stats.error();
                        log.warn("slot {}: {}; retrying in {} ms", config.postgres().slot(), messageOf(e), backoff.toMillis());
                        log.debug("slot {}: failure detail", config.postgres().slot(), e);
                        sleep(backoff);
                        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                    }
                }
            } finally {
                current = null;
            }
        }
        log.info("agent {} stopped", config.agent().id());
        return 0;
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

    /** {@link #messageOf}, one log line per problem: preflight reports each failed check on a line of its own. */
    static List<String> messageLines(Throwable e) {
        return messageOf(e).lines().filter(l -> !l.isBlank()).toList();
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }
}
