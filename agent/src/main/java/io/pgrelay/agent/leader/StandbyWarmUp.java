package io.pgrelay.agent.leader;

import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.checkpoint.CheckpointReader;
import io.pgrelay.agent.checkpoint.SchemaTopicReader;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.pipeline.KafkaState;
import io.pgrelay.agent.pipeline.Pipeline;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.schema.TableSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What a standby keeps ready so that a takeover waits only for fencing: a prepared Kafka producer,
 * warm readers of the checkpoint and schema topics (kept current), a pooled PostgreSQL connection,
 * and, when a handover names this agent, its replication connection.
 */
final class StandbyWarmUp {

    private final AtomicReference<KafkaSink.Prepared> warm = new AtomicReference<>();
    private final AtomicReference<StandingRead<CheckpointReader, CheckpointReader.Tail>> warmReader =
            new AtomicReference<>();
    private final AtomicReference<StandingRead<SchemaTopicReader, SchemaTopicReader.Published>> warmSchemas =
            new AtomicReference<>();
    /** Keeps the standing readers' answers current while this agent stands by. */
    private final ScheduledExecutorService standingReads =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "pgrelay-standby-reads");
                t.setDaemon(true);
                return t;
            });
    private final AtomicBoolean preparing = new AtomicBoolean();
    /**
     * The producer's warm-up by {@link #prepareAhead}, done or under way: a takeover that comes while
     * it runs (a cold start: the slot is often taken before the producer is built) waits for it
     * rather than building a second producer beside it on the same cores.
     */
    private volatile CompletableFuture<?> sinkWarming = CompletableFuture.completedFuture(null);
    private volatile boolean closed;
    private final AtomicReference<CompletableFuture<Connection>> warmReplication =
            new AtomicReference<>();
    private static final Logger log = LoggerFactory.getLogger(StandbyWarmUp.class);

    private final PgRelayConfig config;
    private final PgConnections connections;

    StandbyWarmUp(PgRelayConfig config, PgConnections connections) {
        this.config = config;
        this.connections = connections;
        standingReads.scheduleWithFixedDelay(this::refreshStanding, STANDING_REFRESH.toMillis(),
                STANDING_REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A handover names this agent: opens the replication connection of the coming term now, in the
     * background, so the takeover only sends {@code START_REPLICATION}. Unused (the term never
     * came), it is closed when the handover window ends.
     */
    void openReplicationAhead(Duration window) {
        CompletableFuture<Connection> opening = new CompletableFuture<>();
        if (!warmReplication.compareAndSet(null, opening)) {
            return;
        }
        Pipeline.onNewThread(() -> {
            try {
                opening.complete(connections.openReplication());
            } catch (Throwable e) {
                opening.completeExceptionally(e);
            }
        });
        CompletableFuture.delayedExecutor(window.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> {
                    if (warmReplication.compareAndSet(opening, null)) {
                        opening.thenAccept(StandbyWarmUp::closeQuietly);
                    }
                });
    }

    /** The connection {@link #openReplicationAhead} opened, or null (none, or it failed). */
    Connection takeReplication() {
        CompletableFuture<Connection> opening = warmReplication.getAndSet(null);
        if (opening == null) {
            return null;
        }
        try {
            return opening.get(config.postgres().connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            opening.thenAccept(StandbyWarmUp::closeQuietly);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            opening.thenAccept(StandbyWarmUp::closeQuietly);
            return null;
        }
    }

    /** The sink the warm-up prepared (waiting for one under way), or one prepared now; fences older producers. */
    KafkaSink activateSink() {
        CompletableFuture<?> warming = sinkWarming;
        boolean underWay = !warming.isDone();
        RuntimeException failure = awaitWarming(warming);
        KafkaSink.Prepared prepared = warm.getAndSet(null);
        if (prepared == null) {
            if (underWay && failure != null) {
                throw failure;   // it just tried (no broker answering, say): trying again at once would only wait as long
            }
            prepared = prepareSink();
        }
        return prepared.activate();
    }

    private KafkaSink.Prepared prepareSink() {
        return KafkaSink.prepare(LeaderSettings.kafkaClientConfig(config), config.kafka().producerSettings(), config.cluster(),
                config.kafka().checkpointTopic(), config.kafka().partitions());
    }

    /**
     * While standing by, prepares the Kafka clients a takeover needs (and warms the readers of the
     * checkpoint and schema topics), so that taking over waits only for fencing. Runs in the background; a failure only
     * means the takeover prepares them itself.
     */
    public void prepareAhead() {
        if (prepared() || !preparing.compareAndSet(false, true)) {
            return;
        }
        // Independent of each other: side by side, a cold start waits for the slowest, not the sum.
        CompletableFuture<?>[] steps = {
                CompletableFuture.runAsync(this::warmSink, Pipeline::onNewThread),
                CompletableFuture.runAsync(this::warmPool, Pipeline::onNewThread),
                CompletableFuture.runAsync(() -> warmUp(warmReader, this::newCheckpointReader,
                        r -> r.readTail(Duration.ofSeconds(30))), Pipeline::onNewThread),
                CompletableFuture.runAsync(() -> warmUp(warmSchemas, this::newSchemaReader,
                        r -> r.read(Duration.ofSeconds(30))), Pipeline::onNewThread)};
        sinkWarming = steps[0];
        CompletableFuture.allOf(steps).whenComplete((done, failure) -> {
            if (closed) {
                releaseWarm();   // the agent stopped while these were built
            }
            if (failure != null) {
                log.debug("preparing Kafka clients ahead failed: {}", failure.toString());
            }
            preparing.set(false);
        });
    }

    private void warmSink() {
        if (warm.get() == null) {
            KafkaSink.Prepared p = prepareSink();
            p.ensureTopics(LeaderSettings.tableTopics(config), config.kafka().schemaTopic());
            if (!warm.compareAndSet(null, p)) {
                p.close();
            }
        }
    }

    /** The pool's first connection: a takeover then borrows one without a login. */
    private void warmPool() {
        try (Connection c = connections.borrow()) {
            c.isValid(5);
        } catch (SQLException e) {
            log.debug("warming the connection pool failed: {}", e.toString());
        }
    }

    /** Connects, assigns and reads a topic ahead; the standby then keeps that read current. */
    private static <R extends AutoCloseable, T> void warmUp(AtomicReference<StandingRead<R, T>> slot,
                                                            Supplier<R> open,
                                                            Function<R, T> firstRead) {
        if (slot.get() != null) {
            return;
        }
        R reader = open.get();
        T first;
        try {
            first = firstRead.apply(reader);
        } catch (RuntimeException e) {
            closeQuietly(reader);
            throw e;
        }
        if (!slot.compareAndSet(null, new StandingRead<>(reader, first))) {
            closeQuietly(reader);
        }
    }

    /** How often a standby brings its reads of the checkpoint and schema topics up to date. */
    private static final Duration STANDING_REFRESH = Duration.ofSeconds(1);
    /** A refresh gives up after this (Kafka slow or gone); the next takeover then reads afresh. */
    private static final Duration STANDING_READ_TIMEOUT = Duration.ofSeconds(2);

    private void refreshStanding() {
        StandingRead<CheckpointReader, CheckpointReader.Tail> checkpoints = warmReader.get();
        if (checkpoints != null) {
            checkpoints.refresh((r, t) -> r.refresh(t, STANDING_READ_TIMEOUT), r -> r.readTail(STANDING_READ_TIMEOUT));
        }
        StandingRead<SchemaTopicReader, SchemaTopicReader.Published> schemas = warmSchemas.get();
        if (schemas != null) {
            schemas.refresh((r, p) -> r.refresh(p, STANDING_READ_TIMEOUT), r -> r.read(STANDING_READ_TIMEOUT));
        }
    }

    /** Takes a standing reader out of {@code slot} for good and closes it. */
    private static void closeStanding(AtomicReference<? extends StandingRead<?, ?>> slot) {
        StandingRead<?, ?> s = slot.getAndSet(null);
        if (s != null) {
            s.take();
            closeQuietly(s.reader);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
        }
    }

    /** True once the Kafka clients a takeover needs are connected and the topic readers warm. */
    boolean prepared() {
        return warm.get() != null && warmReader.get() != null && warmSchemas.get() != null;
    }

    public void close() {
        closed = true;
        CompletableFuture<Connection> replication = warmReplication.getAndSet(null);
        if (replication != null) {
            replication.thenAccept(StandbyWarmUp::closeQuietly);
        }
        standingReads.shutdownNow();
        releaseWarm();
    }

    /** Closes the clients a standby keeps warm; again by a warm-up that ends after {@link #close()}. */
    private void releaseWarm() {
        KafkaSink.Prepared p = warm.getAndSet(null);
        if (p != null) {
            p.close();
        }
        closeStanding(warmReader);
        closeStanding(warmSchemas);
    }

    /** Reads of the checkpoint and schema topics, started now or taken from the standby's current answers. */
    KafkaState readAhead() {
        StandingRead<CheckpointReader, CheckpointReader.Tail> standingCheckpoints = warmReader.getAndSet(null);
        CheckpointReader checkpoints = standingCheckpoints != null ? standingCheckpoints.reader : newCheckpointReader();
        CompletableFuture<CheckpointReader.Tail> earlyCheckpoint = earlyRead(standingCheckpoints,
                () -> checkpoints.readTail(KAFKA_READ_TIMEOUT));
        StandingRead<SchemaTopicReader, SchemaTopicReader.Published> standingSchemas = warmSchemas.getAndSet(null);
        SchemaTopicReader schemas = standingSchemas != null ? standingSchemas.reader : newSchemaReader();
        CompletableFuture<SchemaTopicReader.Published> earlySchemas = earlyRead(standingSchemas,
                () -> schemas.read(KAFKA_READ_TIMEOUT));
        return new KafkaState() {
            @Override
            public Optional<Checkpoint> checkpoint() {
                return checkpoints.settle(early(earlyCheckpoint, new CheckpointReader.Tail(Optional.empty(), Map.of())),
                        KAFKA_READ_TIMEOUT);
            }

            @Override
            public Map<String, TableSchema> schemas() {
                return schemas.settle(early(earlySchemas, new SchemaTopicReader.Published(Map.of(), Map.of())),
                        KAFKA_READ_TIMEOUT);
            }

            @Override
            public void close() {
                // after a lost race for the slot nobody wants the answers: stop reading, then close
                if (!earlyCheckpoint.isDone()) {
                    checkpoints.wakeup();
                }
                if (!earlySchemas.isDone()) {
                    schemas.wakeup();
                }
                // aside: closing a consumer takes tens of ms, and in zookeeper mode the lock waits for the term's end
                earlyCheckpoint.whenCompleteAsync((tail, failure) -> checkpoints.close(), Pipeline::onNewThread);
                earlySchemas.whenCompleteAsync((published, failure) -> schemas.close(), Pipeline::onNewThread);
            }
        };
    }

    /** The standby's current answer if it has one, else a read started now. */
    private static <R extends AutoCloseable, T> CompletableFuture<T> earlyRead(StandingRead<R, T> standing,
                                                                            Supplier<T> read) {
        T ready = standing == null ? null : standing.take();
        return ready != null ? CompletableFuture.completedFuture(ready) : CompletableFuture.supplyAsync(read, Pipeline::onNewThread);
    }

    /**
     * Waits for a warm-up under way, bounded like Kafka's reads; returns its failure, or null when it
     * worked (or is not done in time: the caller then builds its own).
     */
    private static RuntimeException awaitWarming(CompletableFuture<?> warming) {
        try {
            warming.get(KAFKA_READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } catch (TimeoutException e) {
            log.debug("a warm-up of the Kafka producer did not finish in time, building another");
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** An early read's result, or {@code none} (meaning: read again when settling) if it failed. */
    private static <T> T early(CompletableFuture<T> read, T none) {
        try {
            return read.join();
        } catch (CompletionException e) {
            log.debug("early read from Kafka failed, reading again: {}", e.getCause().toString());
            return none;
        }
    }

    private static final Duration KAFKA_READ_TIMEOUT = Duration.ofSeconds(60);

    private SchemaTopicReader newSchemaReader() {
        return new SchemaTopicReader(LeaderSettings.kafkaClientConfig(config), config.kafka().schemaTopic());
    }

    private CheckpointReader newCheckpointReader() {
        return new CheckpointReader(LeaderSettings.kafkaClientConfig(config), config.kafka().checkpointTopic(), config.cluster());
    }

}
