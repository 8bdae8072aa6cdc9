package io.pgrelay.agent.slot;

import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.config.SnapshotConfig;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.SlotAdmin;
import io.pgrelay.agent.postgres.SlotState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Keeps the agent from leading on a slot the cluster did not stream from (see {@link SlotCheck}).
 * At start it creates the slot of a new cluster; when the slot is missing, lost or recreated it
 * either refuses — the default: one ERROR line, {@link #refusal()} for {@code /status} and the
 * metrics, and a look again every poll interval, so that an operator's {@code init --resnapshot}
 * ends it — or, with {@code snapshot.mode: when_needed}, creates the slot anew and queues a
 * re-snapshot of every published table ({@link SlotCreation#recreate}).
 *
 * <p>Thread rule: {@link #atStart} on the agent's main thread before the election starts; then
 * the guard's own thread re-judges while refusing; {@link #refused} from the leading thread.
 */
public final class SlotGuard implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SlotGuard.class);
    /** How long an agent that finds a slot but no checkpoint waits for the agent that created it to record its origin. */
    private static final Duration ORIGIN_WAIT = Duration.ofSeconds(10);
    private static final Duration READ = Duration.ofSeconds(30);
    private static final Duration SHORT_READ = Duration.ofSeconds(3);
    /** WAL behind a slot below which it counts as just created (see {@link #justCreated}). */
    private static final long JUST_CREATED_WAL = 16L << 20;

    private final PgRelayConfig config;
    private final PgConnections connections;
    private final Function<Duration, Optional<Checkpoint>> checkpoints;
    private final BooleanSupplier mayRecreate;
    private final SlotCreation creation;
    private final ScheduledExecutorService rechecks = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgrelay-slot-guard");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong recreations = new AtomicLong();
    private volatile SlotCheck.Verdict refusal;
    /** Set when the slot looked missing or lost: the next look judges it even though nothing is refused yet. */
    private volatile boolean suspect;
    private String lastLogged;

    /**
     * @param checkpoints  reads the newest committed checkpoint from Kafka (empty: none), within a timeout
     * @param mayRecreate  whether this agent is the one to re-create a lost slot ({@code when_needed}):
     *                     one agent of the cluster does it, the others wait for it
     */
    public SlotGuard(PgRelayConfig config, PgConnections connections, Function<Duration, Optional<Checkpoint>> checkpoints,
                     BooleanSupplier mayRecreate) {
        this.config = config;
        this.connections = connections;
        this.checkpoints = checkpoints;
        this.mayRecreate = mayRecreate;
        this.creation = new SlotCreation(config, connections);
        // each look opens a Kafka consumer of its own: not more often than every two seconds
        long every = Math.max(2_000, config.coordination().pollInterval().toMillis());
        rechecks.scheduleWithFixedDelay(this::recheck, every, every, TimeUnit.MILLISECONDS);
    }

    /** The reason this agent does not lead now, or empty. */
    public Optional<SlotCheck.Verdict> refusal() {
        return Optional.ofNullable(refusal);
    }

    public boolean mayLead() {
        return refusal == null;
    }

    /** Slots this agent created anew after a loss ({@code when_needed}). */
    public long recreations() {
        return recreations.get();
    }

    /**
     * Before joining the election: creates a new cluster's slot, or judges the one there. Throws
     * when PostgreSQL or Kafka cannot be reached (the caller retries); a refusal is not thrown.
     */
    public void atStart() throws Exception {
        Optional<SlotState> slot = readSlot();
        if (slot.isPresent() && !slot.get().walLost() && !justCreated(slot.get())) {
            // The slot is there: every leader judges it once it holds it and has fenced the old one
            // (SlotCheck in the pipeline), which needs Kafka anyway — no read of Kafka at start.
            return;
        }
        Optional<Checkpoint> checkpoint;
        try {
            // to create a missing slot, whether the cluster streamed must be known; for one just created, a short try
            checkpoint = checkpoints.apply(slot.isPresent() ? SHORT_READ : READ);
        } catch (RuntimeException e) {
            if (slot.isEmpty()) {
                throw e;   // the caller retries: no slot is created without knowing
            }
            log.info("slot {}: cannot read the cluster's checkpoint from Kafka yet ({}); a leader judges the slot once"
                    + " it reaches Kafka", config.postgres().slot(), e.getMessage());
            return;
        }
        if (slot.isPresent() && checkpoint.isEmpty()) {
            checkpoint = awaitOrigin(checkpoint);
        }
        judgeTwiceAndAct(slot, checkpoint);
    }

    /**
     * Another agent has just created the slot and is recording its origin in Kafka: gives it up to
     * {@link #ORIGIN_WAIT}, reading the checkpoint until one appears. Joining the election before
     * would be wrong: a leader's producer fences the creator's transaction, the origin is never
     * recorded, and keyless tables' snapshots then repeat rows the stream carried.
     */
    private Optional<Checkpoint> awaitOrigin(Optional<Checkpoint> checkpoint) throws InterruptedException {
        long deadline = System.nanoTime() + ORIGIN_WAIT.toNanos();
        while (checkpoint.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(500);
            checkpoint = checkpoints.apply(READ);
        }
        return checkpoint;
    }

    /**
     * A read of the checkpoint that is not final may miss the newest commit, whose position the
     * leader has just confirmed, or the record of a slot another agent has just created: a slot
     * that looks created anew is judged again from fresh reads before it is called someone else's.
     */
    private void judgeTwiceAndAct(Optional<SlotState> slot, Optional<Checkpoint> checkpoint) throws Exception {
        SlotCheck.Verdict verdict = SlotCheck.judge(config.postgres().slot(), checkpoint, slot);
        if (verdict.problem() == SlotCheck.Problem.RECREATED) {
            Thread.sleep(1_000);
            slot = readSlot();
            checkpoint = checkpoints.apply(READ);
            verdict = SlotCheck.judge(config.postgres().slot(), checkpoint, slot);
        }
        act(verdict, checkpoint);
    }

    /**
     * A slot nobody holds, with hardly any WAL behind it: most likely created moments ago by an agent
     * starting beside this one, which is about to record its origin. A slot made by hand long ago
     * has WAL behind it (or is held), and nothing will be recorded: no reason to wait then.
     */
    private static boolean justCreated(SlotState slot) {
        return !slot.active() && slot.retainedBytes() != null && slot.retainedBytes() < JUST_CREATED_WAL;
    }

    /** The leader found, after fencing, that it must not stream from the slot. */
    public void refused(SlotCheck.Verdict verdict) {
        refuse(verdict);
    }

    /** The slot looked missing or lost (the slot watcher, a failed start of replication): judge it on the next look. */
    public void lookAgain() {
        suspect = true;
    }

    private void recheck() {
        if (refusal == null && !suspect) {
            return;
        }
        suspect = false;
        try {
            Optional<SlotState> slot = readSlot();   // first: the checkpoint read after it is at least as new
            judgeTwiceAndAct(slot, checkpoints.apply(READ));
        } catch (Exception e) {
            log.debug("slot {}: looking at the slot again failed: {}", config.postgres().slot(), e.toString());
        }
    }

    private void act(SlotCheck.Verdict verdict, Optional<Checkpoint> checkpoint) throws Exception {
        String slot = config.postgres().slot();
        if (verdict.create()) {
            Optional<SlotOrigin> created = creation.createForNewCluster();
            if (created.isPresent()) {
                log.info("slot {}: created (pgoutput); changes committed after {} will be streamed", slot,
                        created.get().consistentPoint());
            } else {
                // The creator's first Kafka transaction can take seconds on a new cluster (the brokers create
                // __transaction_state on the first one): seen fenced by a leader elected meanwhile.
                boolean recorded = awaitOrigin(Optional.empty()).isPresent();
                log.info("slot {}: created by another agent meanwhile; {}", slot, recorded ? "its origin is recorded"
                        : "no origin recorded after " + ORIGIN_WAIT.toSeconds() + " s (did that agent stop?); going on without");
            }
            clear();
            return;
        }
        if (!verdict.refuses()) {
            clear();
            return;
        }
        if (config.snapshot().mode() != SnapshotConfig.Mode.WHEN_NEEDED) {
            refuse(verdict);
            return;
        }
        if (!mayRecreate.getAsBoolean()) {
            // One agent of the cluster re-creates it (the leader, else the live one with the lowest
            // id); this one stands by and looks again.
            if (refusal == null) {
                log.info("slot {}: {}; snapshot.mode when_needed: waiting for the agent that speaks for the cluster"
                        + " to create it anew", slot, verdict.problem().name().toLowerCase());
            }
            refusal = verdict;
            return;
        }
        log.warn("slot {}: {} (snapshot.mode: when_needed: creating it anew)", slot, verdict.problem().name().toLowerCase());
        try {
            SlotCreation.Recreated done = creation.recreate(checkpoint);
            recreations.incrementAndGet();
            log.warn("slot {}: {}created anew; changes committed after {} will be streamed, and every published table ({}) "
                            + "is re-snapshotted after a truncate event marked \"resnapshot\"", slot, done.dropped() ? "dropped and " : "",
                    done.origin().consistentPoint(), done.tables().size());
            clear();
        } catch (SlotAdmin.SlotInUseException e) {
            refuse(verdict);
            log.warn("slot {}: cannot re-create it yet: {}", slot, e.getMessage());
        }
    }

    private synchronized void refuse(SlotCheck.Verdict verdict) {
        refusal = verdict;
        if (!verdict.message().equals(lastLogged)) {
            log.error("{}", verdict.message());
            lastLogged = verdict.message();
        }
    }

    private synchronized void clear() {
        if (refusal != null) {
            log.info("slot {}: the slot is the cluster's again; joining the election", config.postgres().slot());
        }
        refusal = null;
        lastLogged = null;
    }

    private Optional<SlotState> readSlot() throws SQLException {
        try (Connection c = connections.borrow()) {
            return new SlotAdmin(c).read(config.postgres().slot());
        }
    }

    @Override
    public void close() {
        rechecks.shutdownNow();
    }
}
