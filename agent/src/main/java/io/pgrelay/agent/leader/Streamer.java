package io.pgrelay.agent.leader;

import io.pgrelay.agent.failure.Failures;
import io.pgrelay.agent.core.Backoff;
import io.pgrelay.agent.config.CoordinationConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.pipeline.Pipeline;
import io.pgrelay.agent.pipeline.StreamProgress;
import io.pgrelay.agent.pipeline.StreamStats;
import io.pgrelay.agent.slot.SlotGuard;
import io.pgrelay.agent.slot.SlotRefusedException;
import io.pgrelay.coordination.Leader;
import io.pgrelay.coordination.Revocation;
import io.pgrelay.coordination.SlotBusyException;
import io.pgrelay.coordination.Term;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * What this agent does while it leads: runs one {@link Pipeline} per term. A handover or shutdown
 * lets the pipeline commit and flush before the term ends; any other revocation (ZooKeeper session
 * lost, slot taken) stops it without committing — the next leader resumes from the checkpoint.
 */
public final class Streamer implements Leader {

    private static final Logger log = LoggerFactory.getLogger(Streamer.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** SQLSTATE undefined_object: START_REPLICATION on a slot that does not exist. */
    private static final String UNDEFINED_OBJECT = "42704";
    /** How long after a term a standby waits before it prepares Kafka clients for the next one. */
    private static final Duration PREPARE_AFTER_TERM = Duration.ofSeconds(1);
    /** A standby's warm-up waits this long after start: a cold cluster has its first leader by then, which does not rehearse. */
    private static final Duration WARM_UP_AFTER_START = Duration.ofSeconds(3);

    private final PgRelayConfig config;
    private final StreamResources resources;
    private final StreamStats stats;
    private final StreamProgress progress;
    private final Consumer<Throwable> onFatal;
    private final SlotGuard guard;
    private volatile Pipeline current;
    private volatile boolean shuttingDown;
    private final Backoff backoff = new Backoff(Duration.ofMillis(500), MAX_BACKOFF);

    public Streamer(PgRelayConfig config, StreamResources resources, StreamStats stats, StreamProgress progress,
             SlotGuard guard, Consumer<Throwable> onFatal) {
        this.guard = guard;
        this.config = config;
        this.resources = resources;
        this.stats = stats;
        this.progress = progress;
        this.onFatal = onFatal;
    }

    /** True while a pipeline streams (this agent leads and its reader loop runs). */
    public boolean streaming() {
        Pipeline p = current;
        return p != null && p.streaming();
    }

    /** Commits what the pipeline holds, flushes the slot and ends the term; waits up to the timeout. */
    public void shutdown(Duration timeout) {
        shuttingDown = true;
        Pipeline p = current;
        if (p != null) {
            p.stop();
            p.awaitEnd(timeout);
        }
    }

    @Override
    public boolean readyToLead() {
        if (resources.prepared()) {
            return true;
        }
        resources.prepareAhead();   // an earlier attempt may have failed (Kafka was down): try again
        return false;
    }

    /**
     * Once this agent stands by with its Kafka clients prepared, rehearses the per-event path (see
     * {@code HotPathRehearsal}), so that its first takeover drains at full speed. An agent that leads
     * first never rehearses: leading warms it up.
     */
    public void warmUpWhileStandingBy() {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(WARM_UP_AFTER_START.toMillis());
                while (!shuttingDown && current == null && !resources.prepared()) {
                    Thread.sleep(500);
                }
            } catch (InterruptedException e) {
                return;
            }
            if (!shuttingDown && current == null) {
                resources.rehearseOnce(() -> current == null && !shuttingDown);
            }
        }, "pgrelay-warm-up");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void handoverComing(Duration window) {
        if (current == null && !shuttingDown) {
            resources.openReplicationAhead(window);
        }
    }

    @Override
    public void lead(Term term) throws Exception {
        String slot = config.postgres().slot();
        if (!guard.mayLead()) {
            // The slot is not the cluster's (missing, lost, created anew): stand by until that changes.
            waitOut(term, config.coordination().pollInterval());
            return;
        }
        for (int attempt = 0; ; attempt++) {
            Pipeline pipeline = new Pipeline(resources.pipelineSettings(), resources, stats, progress);
            current = pipeline;
            term.revoked().thenRun(() -> {
                if (term.revocation().map(Revocation::finishesCleanly).orElse(false)) {
                    pipeline.stop();     // finish cleanly: commit, flush, release the slot
                } else {
                    pipeline.abort();    // someone else may lead already: write nothing more
                }
            });
            if (shuttingDown) {
                pipeline.stop();
            }
            try {
                runWatched(pipeline, term);
                backoff.reset();
                return;
            } catch (SlotRefusedException e) {
                guard.refused(e.verdict());
                return;
            } catch (Exception e) {
                if (e instanceof SQLException sql && UNDEFINED_OBJECT.equals(sql.getSQLState())) {
                    guard.lookAgain();   // the slot is gone: the guard says why, and whether to lead again
                }
                Failures.Kind kind = Failures.classify(e);
                if (kind == Failures.Kind.SLOT_BUSY) {
                    if (zookeeperMode() && attempt < 10 && term.isValid()) {
                        // We hold the ZooKeeper lock, so the walsender on the slot belongs to a former leader.
                        term.evictSlotHolder().ifPresent(pid ->
                                log.info("slot {}: terminated stale walsender pid {} of a former leader", slot, pid));
                        Thread.sleep(100);
                        continue;
                    }
                    throw new SlotBusyException(slot, e instanceof SQLException sql ? sql : new SQLException(e));
                }
                handleFailure(kind, e, term);
                return;
            } finally {
                current = null;
                if (!shuttingDown) {
                    // Ready for the next takeover, but not at once: a term (or a lost race) ends just as
                    // another agent takes over, and new Kafka clients cost CPU that its takeover needs.
                    CompletableFuture.delayedExecutor(PREPARE_AFTER_TERM.toMillis(), TimeUnit.MILLISECONDS)
                            .execute(() -> {
                                if (!shuttingDown && current == null) {
                                    resources.prepareAhead();
                                }
                            });
                }
            }
        }
    }

    /** Waits until the term is revoked or the time has passed. */
    private static void waitOut(Term term, Duration time) {
        try {
            term.revoked().get(time.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException ignored) {
            // waited it out
        } catch (InterruptedException ignored) {
            Thread.interrupted();
        }
    }

    private boolean zookeeperMode() {
        return config.coordination().mode() == CoordinationConfig.Mode.ZOOKEEPER;
    }

    /**
     * Runs the pipeline on its own thread, so that the election's interrupt of the leading thread
     * does not cut a clean finish short, and watches it: a reader loop that makes no progress for
     * {@code hangTimeout} is aborted (in ZooKeeper mode the session would keep a hung leader in place).
     */
    private void runWatched(Pipeline pipeline, Term term) throws Exception {
        CompletableFuture<Void> run = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                pipeline.run(new Pipeline.Lease() {
                    @Override
                    public long slotAcquired() throws Exception {
                        return term.slotAcquired();
                    }

                    @Override
                    public boolean mayFenceBeforeSlot() {
                        return term.mayFenceBeforeSlot();
                    }
                });
                run.complete(null);
            } catch (Throwable t) {
                run.completeExceptionally(t);
            }
        }, "pgrelay-reader");
        reader.start();
        long hangNanos = config.coordination().hangTimeout().toNanos();
        while (true) {
            try {
                run.get(250, TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : new IllegalStateException(e.getCause());
            } catch (TimeoutException e) {
                if (pipeline.streaming() && pipeline.nanosSinceProgress() > hangNanos) {
                    log.error("slot {}: the reader made no progress for {} ms; abandoning this term",
                            config.postgres().slot(), pipeline.nanosSinceProgress() / 1_000_000);
                    pipeline.abort();
                    reader.interrupt();
                    return;
                }
            } catch (InterruptedException e) {
                // The election interrupts us when it revokes the term; the revocation hook already told the pipeline.
                Thread.interrupted();
            }
        }
    }

    private void handleFailure(Failures.Kind kind, Exception e, Term term) {
        String slot = config.postgres().slot();
        switch (kind) {
            case FENCED -> log.warn("slot {}: {}; standing by", slot, e.getMessage());
            case FATAL -> {
                for (String line : Failures.messageLines(e)) {
                    log.error("slot {}: {}", slot, line);
                }
                onFatal.accept(e);
            }
            default -> {
                stats.error();
                log.warn("slot {}: {}; retrying in {} ms", slot, Failures.messageOf(e), backoff.current().toMillis());
                log.debug("slot {}: failure detail", slot, e);
                waitOut(term, backoff.current());
                backoff.increase();
            }
        }
    }
}
