package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.event.RowEncoder;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.pgoutput.PgMessage;
import io.pgrelay.agent.pgoutput.PgOutputDecoder;
import io.pgrelay.agent.replication.WalReader;
import io.pgrelay.agent.slot.SlotCheck;
import io.pgrelay.agent.slot.SlotRefusedException;
import io.pgrelay.agent.snapshot.ChunkRegistry;
import io.pgrelay.agent.snapshot.SnapshotState;
import io.pgrelay.agent.snapshot.SnapshotWorker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One leader's stream: slot → {@link WalReader} → {@link PgOutputDecoder} → {@link SinkLoop} →
 * {@link KafkaSink} → checkpoint → flushed LSN back to the slot. The caller's thread reads and
 * decodes; a second thread writes to Kafka. A bounded queue of batches between them bounds memory;
 * while it is full the reader keeps sending status updates so PostgreSQL does not drop us.
 *
 * <p>{@link #run} returns after {@link #stop()} (having committed what was read and flushed the
 * slot), returns early without committing after {@link #abort()}, and throws on any failure. One
 * instance runs once.
 */
public final class Pipeline {

    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
    private static final int BATCH_SIZE = 512;
    /**
     * 8 batches, ~4 MB at most: enough to cover a Kafka commit's wait at full speed, and small enough
     * that what waits here dies in the young generation (docs/deploy.md, "Resources").
     */
    private static final int QUEUE_BATCHES = 8;
    private static final long IDLE_PARK_NANOS = 500_000;

    /** What the pipeline needs from leadership: the fencing epoch, asked for once the slot is held. */
    @FunctionalInterface
    public interface Lease {
        long slotAcquired() throws Exception;

        /** Whether the producer may fence the previous leader while the slot is being taken (see {@code Term}). */
        default boolean mayFenceBeforeSlot() {
            return false;
        }
    }

    private final PipelineSettings settings;
    private final PipelineResources resources;
    private final StreamStats stats;
    private final StreamProgress progress;
    private final BlockingQueue<MessageBatch> queue = new ArrayBlockingQueue<>(QUEUE_BATCHES);
    private final AtomicReference<Throwable> sinkFailure = new AtomicReference<>();
    private volatile boolean stopping;
    private volatile boolean aborted;
    private volatile boolean streaming;
    /** Last time the reader loop went round; a watchdog reads it. */
    private volatile long lastProgressNanos = System.nanoTime();
    private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);

    public Pipeline(PipelineSettings settings, PipelineResources resources, StreamStats stats, StreamProgress progress) {
        this.settings = settings;
        this.resources = resources;
        this.stats = stats;
        this.progress = progress;
    }

    /** Asks {@link #run} to commit what it has, flush the slot and return. */
    public void stop() {
        stopping = true;
    }

    /** Asks {@link #run} to return at once without committing anything more. */
    public void abort() {
        aborted = true;
    }

    /** True from the moment the slot is held and events flow until the run ends. */
    public boolean streaming() {
        return streaming;
    }

    public long nanosSinceProgress() {
        return System.nanoTime() - lastProgressNanos;
    }

    /** Waits until {@link #run} has returned (or the timeout passed). */
    public boolean awaitEnd(Duration timeout) {
        try {
            return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public void run(Lease lease) throws Exception {
        try {
            runOnce(lease);
        } finally {
            streaming = false;
            ended.countDown();
        }
    }

    private void runOnce(Lease lease) throws Exception {
        long t0 = System.nanoTime();
        try (KafkaState kafkaState = resources.readAhead()) {
            runOnce(lease, t0, kafkaState);
        }
    }

    private void runOnce(Lease lease, long t0, KafkaState kafkaState) throws Exception {
        // The rightful next leader fences while it takes the slot; any other only once it holds it.
        CompletableFuture<KafkaSink> fencing = lease.mayFenceBeforeSlot()
                ? CompletableFuture.supplyAsync(resources::openSink, Pipeline::onNewThread) : null;
        WalReader reader;
        try {
            reader = resources.openReader(); // throws 55006 when another walsender holds the slot
        } catch (Exception e) {
            if (fencing != null) {
                fencing.thenAccept(KafkaSink::close);
            }
            throw e;
        }
        KafkaSink sink = null;
        Thread sinkThread = null;
        SnapshotWorker snapshotWorker = null;
        try {
            long epoch = lease.slotAcquired();
            long tSlot = System.nanoTime();
            sink = whileKeepingAlive(reader, fencing != null ? fencing
                    : CompletableFuture.supplyAsync(resources::openSink, Pipeline::onNewThread));
            long tSink = System.nanoTime();
            for (String topic : settings.initialTopics()) {
                sink.ensureTopic(topic); // consumers of listed tables can subscribe before the first change
            }
            if (settings.transactionTopic() != null) {
                sink.ensureTopic(settings.transactionTopic());
            }
            // both settle at once: each is one end-offset lookup when nothing changed since the early read
            var settlingSchemas = CompletableFuture.supplyAsync(kafkaState::schemas, Pipeline::onNewThread);
            Optional<Checkpoint> checkpoint = whileKeepingAlive(reader, kafkaState::checkpoint);
            // Final now that the old leader is fenced; the slot cannot move while we hold it.
            SlotCheck.Verdict verdict = SlotCheck.judge(settings.slot(), checkpoint, resources.slotState());
            if (verdict.refuses()) {
                throw new SlotRefusedException(verdict);
            }
            Position skipThrough = checkpoint.map(Checkpoint::position).orElse(Position.NONE);
            var published = whileKeepingAlive(reader, settlingSchemas);
            sink.ensureSchemaTopic(settings.schemaTopic());
            long tCheckpoint = System.nanoTime();
            log.info("slot {}: streaming as leader, epoch {}, skipping events through {} (slot held after {} ms, "
                            + "producer ready after {} ms more, checkpoint and schema topic read after {} ms more)",
                    settings.slot(), epoch, skipThrough, (tSlot - t0) / 1_000_000, (tSink - tSlot) / 1_000_000,
                    (tCheckpoint - tSink) / 1_000_000);
            RowEncoder encoder = resources.newEncoder();
            SchemaStream schemas = new SchemaStream(settings.schemaTopic(), settings.cluster(), settings.slot(),
                    encoder.types(), published);
            SnapshotState resumed = checkpoint.map(Checkpoint::snapshot).orElse(SnapshotState.NONE);
            ChunkRegistry chunks = new ChunkRegistry();
            SlotOrigin origin = checkpoint.map(Checkpoint::origin).orElse(null);
            SnapshotWindows windows = new SnapshotWindows(chunks, resumed, stats.snapshot(), settings.slot());
            SinkLoop loop = new SinkLoop(sink, encoder, new Routes(sink, encoder, resources::primaryKey, settings.topics(), stats),
                    new OversizedRecords(settings.skipOversized(), settings.deadLetterTopic(), sink, stats, settings.slot()),
                    progress, stats,
                    new SinkSettings(settings.slot(), settings.tombstones(), settings.commitInterval(),
                            settings.commitMaxBytes(), epoch, settings.agentId(), settings.maxTransactionBytes(),
                            settings.maxTransactionTime(), settings.transactionTopic(), settings.cluster()),
                    skipThrough, checkpoint.map(Checkpoint::flushed).orElse(Lsn.ZERO), origin, schemas, windows);
            sinkThread = new Thread(() -> sinkLoop(loop), "pgrelay-sink");
            sinkThread.start();
            snapshotWorker = startSnapshotWorker(checkpoint, epoch, chunks);
            lastProgressNanos = System.nanoTime();
            streaming = true;
            readLoop(reader);
            boolean graceful = stopping && !aborted && sinkFailure.get() == null;
            if (graceful) {
                snapshotWorker.stop();   // a keyless table being sent whole stops too (it starts over on the next leader)
                handOff(reader, MessageBatch.END);
                waitFor(sinkThread, reader);
                throwIfSinkFailed();
                reader.confirm(progress.flushed());
                log.info("slot {}: stopped; committed through {}, flushed LSN {}", settings.slot(), progress.committed(), progress.flushed());
            } else {
                throwIfSinkFailed();
                log.warn("slot {}: leadership lost; stopping without committing (the next leader resumes from the checkpoint)", settings.slot());
            }
        } finally {
            if (snapshotWorker != null) {
                snapshotWorker.stop();
            }
            if (sinkThread != null && sinkThread.isAlive()) {
                sinkThread.interrupt();
                sinkThread.join(10_000);
            }
            // first: that releases the slot, which the next leader is waiting for. After an abort
            // (leadership lost: the network may be silent) without waiting for the server's answer.
            if (aborted) {
                reader.abandon();
            } else {
                reader.close();
            }
            if (sink != null) {
                closeAside(sink);
            } else if (fencing != null) {
                fencing.thenAccept(KafkaSink::close);   // failed before the producer was taken up
            }
        }
    }

    /**
     * Closes the producer on a thread of its own, so that the term ends as soon as the slot is
     * released (in ZooKeeper mode that is when the lock passes on). It has nothing in flight after
     * a commit, and after an abort the next leader's fencing settles what it had; closing it only
     * stops its threads. Not a daemon: a stopping agent waits for it (at most a few seconds).
     */
    private static void closeAside(KafkaSink sink) {
        new Thread(sink::close, "pgrelay-close-producer").start();
    }

    /**
     * Starts the snapshot thread of this term. It asks for every published table first when the
     * mode says so: {@code initial} when the cluster has no checkpoint yet, {@code always} unless a
     * snapshot is in progress. A snapshot in progress (in the checkpoint) continues in every mode.
     */
    private SnapshotWorker startSnapshotWorker(Optional<Checkpoint> checkpoint, long epoch, ChunkRegistry chunks) {
        boolean inProgress = checkpoint.map(c -> c.snapshot().active()).orElse(false);
        boolean requestAll = switch (settings.snapshotMode()) {
            case INITIAL, WHEN_NEEDED -> !checkpoint.map(Checkpoint::streamed).orElse(false);
            case ALWAYS -> !inProgress;
            case NEVER -> false;
        };
        if (inProgress) {
            log.info("slot {}: continuing the snapshot in progress: {}", settings.slot(),
                    checkpoint.get().snapshot().current().map(t -> t.table() + " after " + t.rowsSent() + " rows").orElse(""));
        }
        SnapshotWorker.Connections connections = new SnapshotWorker.Connections() {
            @Override
            public Connection open() throws SQLException {
                return resources.openSnapshotConnection();
            }

            @Override
            public Connection openReplication() throws SQLException {
                return resources.openReplicationConnection();
            }
        };
        SnapshotWorker worker = new SnapshotWorker(connections,
                new SnapshotWorker.Settings(settings.slot(), settings.publication(), settings.snapshotChunkSize(), epoch, requestAll),
                chunks, stats.snapshot()::state);
        Thread t = new Thread(worker, "pgrelay-snapshot");
        t.setDaemon(true);
        t.start();
        return worker;
    }

    /** Runs a read from Kafka on another thread while keeping the walsender informed that we live. */
    private <T> T whileKeepingAlive(WalReader reader, java.util.function.Supplier<T> read) throws Exception {
        return whileKeepingAlive(reader, CompletableFuture.supplyAsync(read, Pipeline::onNewThread));
    }

    /** Waits for Kafka work under way (starting the producer fences older leaders) while keeping the walsender informed that we live. */
    private <T> T whileKeepingAlive(WalReader reader, CompletableFuture<T> reading) throws Exception {
        while (true) {
            try {
                return reading.get(settings.statusInterval().toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                reader.keepAlive();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            }
        }
    }

    /**
     * Blocking calls on a takeover's critical path get a thread each: the common fork-join pool
     * has one thread on a two-core machine, which would run them one after the other.
     */
    public static void onNewThread(Runnable task) {
        Thread t = new Thread(task, "pgrelay-takeover");
        t.setDaemon(true);
        t.start();
    }

    private void readLoop(WalReader reader) throws SQLException, InterruptedException {
        PgOutputDecoder decoder = new PgOutputDecoder();
        MessageBatch batch = new MessageBatch(BATCH_SIZE);
        long confirmed = reader.confirmed().value();
        while (!stopping && sinkFailure.get() == null && !aborted) {
            lastProgressNanos = System.nanoTime();
            long flushed = progress.flushedValue(); // a long, not an Lsn: this runs once per message
            if (Long.compareUnsigned(flushed, confirmed) > 0) {
                reader.confirm(Lsn.of(flushed));
                confirmed = flushed;
            }
            ByteBuffer buffer = reader.poll();
            if (buffer != null) {
                int length = buffer.remaining();
                PgMessage message = decoder.decode(buffer);
                if (batch.add(message, reader.lastReceivedValue(), length)) {
                    handOff(reader, batch);
                    batch = new MessageBatch(BATCH_SIZE);
                }
            } else if (!batch.isEmpty()) {
                handOff(reader, batch);
                batch = new MessageBatch(BATCH_SIZE);
            } else {
                LockSupport.parkNanos(IDLE_PARK_NANOS);
            }
        }
        if (!batch.isEmpty() && stopping && !aborted) {
            handOff(reader, batch);
        }
    }

    /** Queues a batch for the sink; while the queue is full, keeps the walsender's timeout at bay. */
    private void handOff(WalReader reader, MessageBatch batch) throws SQLException, InterruptedException {
        long keepAliveEvery = Math.max(100, settings.statusInterval().toMillis() / 2);
        while (!queue.offer(batch, keepAliveEvery, TimeUnit.MILLISECONDS)) {
            reader.keepAlive();
            lastProgressNanos = System.nanoTime();
            if (sinkFailure.get() != null || aborted) {
                return;
            }
        }
    }

    private void waitFor(Thread sinkThread, WalReader reader) throws SQLException, InterruptedException {
        while (sinkThread.isAlive()) {
            sinkThread.join(Math.max(100, settings.statusInterval().toMillis() / 2));
            reader.keepAlive();
        }
    }

    private void sinkLoop(SinkLoop loop) {
        try {
            while (true) {
                MessageBatch batch = queue.poll(settings.idleCommitDelay().toNanos(), TimeUnit.NANOSECONDS);
                if (stopping) {
                    loop.stopping();
                }
                if (batch == null) {
                    loop.maybeCommit(true);
                    continue;
                }
                if (batch == MessageBatch.END) {
                    loop.finish();
                    return;
                }
                for (int i = 0; i < batch.size; i++) {
                    loop.handle(batch.messages[i], batch.lsns[i]);
                }
                progress.received(batch.lsns[batch.size - 1]);
                // Nothing more waiting: commit now (group commit). Under load the queue refills while
                // a commit runs, so commits grow with the load by themselves; commitInterval and
                // commitMaxBytes bound them while the reader keeps the queue from ever running dry.
                loop.maybeCommit(queue.isEmpty());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            stats.error();
            sinkFailure.compareAndSet(null, t);
        }
    }

    private void throwIfSinkFailed() throws Exception {
        Throwable t = sinkFailure.get();
        if (t instanceof Exception e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }
}
