package io.pgrelay.agent;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.event.EventEncoder;
import io.pgrelay.agent.event.JdbcTypeCatalog;
import io.pgrelay.agent.kafka.Checkpoint;
import io.pgrelay.agent.kafka.CheckpointReader;
import io.pgrelay.agent.kafka.KafkaClients;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.kafka.SchemaTopicReader;
import io.pgrelay.agent.schema.TableSchema;
import io.pgrelay.agent.pipeline.Pipeline;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.WalReader;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/** Opens the connections one pipeline run needs, from the agent's configuration. */
final class StreamResources implements Pipeline.Resources {

    private final PgRelayConfig config;
    private final PgConnections connections;
    private final JdbcTypeCatalog typeCatalog;
    private final java.util.concurrent.atomic.AtomicReference<KafkaSink.Prepared> warm = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicReference<Standing<CheckpointReader, CheckpointReader.Tail>> warmReader =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicReference<Standing<SchemaTopicReader, SchemaTopicReader.Published>> warmSchemas =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Keeps the standing readers' answers current while this agent stands by. */
    private final java.util.concurrent.ScheduledExecutorService standingReads =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "pgrelay-standby-reads");
                t.setDaemon(true);
                return t;
            });
    private final java.util.concurrent.atomic.AtomicBoolean preparing = new java.util.concurrent.atomic.AtomicBoolean();
    /**
     * The producer's warm-up by {@link #prepareAhead}, done or under way: a takeover that comes while
     * it runs (a cold start: the slot is often taken before the producer is built) waits for it
     * rather than building a second producer beside it on the same cores.
     */
    private volatile CompletableFuture<?> sinkWarming = CompletableFuture.completedFuture(null);
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<java.sql.Connection>> warmReplication =
            new java.util.concurrent.atomic.AtomicReference<>();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StreamResources.class);

    StreamResources(PgRelayConfig config, PgConnections connections) {
        this.config = config;
        this.connections = connections;
        this.typeCatalog = new JdbcTypeCatalog(connections::borrow);
        standingReads.scheduleWithFixedDelay(this::refreshStanding, STANDING_REFRESH.toMillis(),
                STANDING_REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A standby's reader of one of pgrelay's topics with its last answer, which the standby keeps
     * current (reading on from where it stopped) until a takeover takes both: the takeover then
     * starts from an answer it already has and only reads what was committed since. The lock
     * keeps the refresher and the takeover off the consumer at the same time.
     */
    private static final class Standing<R extends AutoCloseable, T> {
        final R reader;
        private T last;
        private boolean taken;

        Standing(R reader, T first) {
            this.reader = reader;
            this.last = first;
        }

        /** Reads on ({@code refresh}), or reads afresh after a failed refresh ({@code read}); a failure leaves no answer. */
        synchronized void refresh(java.util.function.BiFunction<R, T, T> refresh, java.util.function.Function<R, T> read) {
            if (taken) {
                return;
            }
            try {
                last = last == null ? read.apply(reader) : refresh.apply(reader, last);
            } catch (RuntimeException e) {
                log.debug("refreshing a standby's read of Kafka failed: {}", e.toString());
                last = null;
            }
        }

        /** Hands reader and answer (null: none) to the caller; no refresh touches them after. */
        synchronized T take() {
            taken = true;
            return last;
        }
    }

    @Override
    public WalReader openReader() throws SQLException {
        java.sql.Connection c = takeWarmReplication();
        try {
            if (c == null) {
                c = connections.openReplication();
            }
            return WalReader.start(c, config.postgres().slot(), config.postgres().publication(),
                    config.postgres().statusInterval());
        } catch (io.pgrelay.agent.postgres.PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);   // 55006 (another walsender holds the slot) or a broken connection
            throw e;
        }
    }

    /**
     * A handover names this agent: opens the replication connection of the coming term now, in the
     * background, so the takeover only sends {@code START_REPLICATION}. Unused (the term never
     * came), it is closed when the handover window ends.
     */
    void openReplicationAhead(Duration window) {
        CompletableFuture<java.sql.Connection> opening = new CompletableFuture<>();
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
                        opening.thenAccept(StreamResources::closeQuietly);
                    }
                });
    }

    /** The connection {@link #openReplicationAhead} opened, or null (none, or it failed). */
    private java.sql.Connection takeWarmReplication() {
        CompletableFuture<java.sql.Connection> opening = warmReplication.getAndSet(null);
        if (opening == null) {
            return null;
        }
        try {
            return opening.get(config.postgres().connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            opening.thenAccept(StreamResources::closeQuietly);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            opening.thenAccept(StreamResources::closeQuietly);
            return null;
        }
    }

    @Override
    public KafkaSink openSink() {
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
        return KafkaSink.prepare(kafkaClientConfig(config), config.kafka().producer(), config.cluster(),
                config.kafka().checkpointTopic(), config.kafka().partitions());
    }

    /**
     * While standing by, prepares the Kafka clients a takeover needs (and warms the readers of the
     * checkpoint and schema topics), so that taking over waits only for fencing. Runs in the background; a failure only
     * means the takeover prepares them itself.
     */
    void prepareAhead() {
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
            p.ensureTopics(tableTopics(), config.kafka().schemaTopic());
            if (!warm.compareAndSet(null, p)) {
                p.close();
            }
        }
    }

    /** The pool's first connection: a takeover then borrows one without a login. */
    private void warmPool() {
        try (java.sql.Connection c = connections.borrow()) {
            c.isValid(5);
        } catch (SQLException e) {
            log.debug("warming the connection pool failed: {}", e.toString());
        }
    }

    /** Connects, assigns and reads a topic ahead; the standby then keeps that read current. */
    private static <R extends AutoCloseable, T> void warmUp(java.util.concurrent.atomic.AtomicReference<Standing<R, T>> slot,
                                                            java.util.function.Supplier<R> open,
                                                            java.util.function.Function<R, T> firstRead) {
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
        if (!slot.compareAndSet(null, new Standing<>(reader, first))) {
            closeQuietly(reader);
        }
    }

    /** How often a standby brings its reads of the checkpoint and schema topics up to date. */
    private static final Duration STANDING_REFRESH = Duration.ofSeconds(1);
    /** A refresh gives up after this (Kafka slow or gone); the next takeover then reads afresh. */
    private static final Duration STANDING_READ_TIMEOUT = Duration.ofSeconds(2);

    private void refreshStanding() {
        Standing<CheckpointReader, CheckpointReader.Tail> checkpoints = warmReader.get();
        if (checkpoints != null) {
            checkpoints.refresh((r, t) -> r.refresh(t, STANDING_READ_TIMEOUT), r -> r.readTail(STANDING_READ_TIMEOUT));
        }
        Standing<SchemaTopicReader, SchemaTopicReader.Published> schemas = warmSchemas.get();
        if (schemas != null) {
            schemas.refresh((r, p) -> r.refresh(p, STANDING_READ_TIMEOUT), r -> r.read(STANDING_READ_TIMEOUT));
        }
    }

    /** Takes a standing reader out of {@code slot} for good and closes it. */
    private static void closeStanding(java.util.concurrent.atomic.AtomicReference<? extends Standing<?, ?>> slot) {
        Standing<?, ?> s = slot.getAndSet(null);
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

    void close() {
        closed = true;
        CompletableFuture<java.sql.Connection> replication = warmReplication.getAndSet(null);
        if (replication != null) {
            replication.thenAccept(StreamResources::closeQuietly);
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

    @Override
    public EventEncoder newEncoder() {
        return new EventEncoder(config.cluster(), typeCatalog);
    }

    @Override
    public Pipeline.KafkaState readAhead() {
        Standing<CheckpointReader, CheckpointReader.Tail> standingCheckpoints = warmReader.getAndSet(null);
        CheckpointReader checkpoints = standingCheckpoints != null ? standingCheckpoints.reader : newCheckpointReader();
        CompletableFuture<CheckpointReader.Tail> earlyCheckpoint = earlyRead(standingCheckpoints,
                () -> checkpoints.readTail(KAFKA_READ_TIMEOUT));
        Standing<SchemaTopicReader, SchemaTopicReader.Published> standingSchemas = warmSchemas.getAndSet(null);
        SchemaTopicReader schemas = standingSchemas != null ? standingSchemas.reader : newSchemaReader();
        CompletableFuture<SchemaTopicReader.Published> earlySchemas = earlyRead(standingSchemas,
                () -> schemas.read(KAFKA_READ_TIMEOUT));
        return new Pipeline.KafkaState() {
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
    private static <R extends AutoCloseable, T> CompletableFuture<T> earlyRead(Standing<R, T> standing,
                                                                            java.util.function.Supplier<T> read) {
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
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } catch (java.util.concurrent.TimeoutException e) {
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

    /** The newest committed checkpoint, read with a consumer of its own (not final: nobody was fenced). */
    Optional<Checkpoint> latestCheckpoint(Duration timeout) {
        return CheckpointReader.latest(kafkaClientConfig(config), config.kafka().checkpointTopic(), config.cluster(), timeout);
    }

    private SchemaTopicReader newSchemaReader() {
        return new SchemaTopicReader(kafkaClientConfig(config), config.kafka().schemaTopic());
    }

    private CheckpointReader newCheckpointReader() {
        return new CheckpointReader(kafkaClientConfig(config), config.kafka().checkpointTopic(), config.cluster());
    }

    @Override
    public java.sql.Connection openSnapshotConnection() throws SQLException {
        try {
            return connections.openTextResults();
        } catch (io.pgrelay.agent.postgres.PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
    }

    @Override
    public Optional<io.pgrelay.agent.postgres.SlotState> slotState() throws SQLException {
        try (java.sql.Connection c = connections.borrow()) {
            return new io.pgrelay.agent.postgres.SlotAdmin(c).read(config.postgres().slot());
        }
    }

    @Override
    public java.util.List<String> primaryKey(io.pgrelay.agent.core.TableId table) {
        String sql = "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                + "WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)";
        try (java.sql.Connection c = connections.borrow(); java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table.quoted());
            java.util.List<String> columns = new java.util.ArrayList<>();
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
            return columns;
        } catch (SQLException e) {
            throw new IllegalStateException("could not read the primary key of " + table + ": " + e.getMessage(), e);
        }
    }

    static Map<String, Object> kafkaClientConfig(PgRelayConfig config) {
        return KafkaClients.config(config.kafka().bootstrapServers(), config.kafka().producer(), config.agent().id());
    }

    /** The topics of the tables listed in the config, which a leader creates before the first change. */
    private java.util.List<String> tableTopics() {
        var topics = config.kafka().topicNames();
        return config.postgres().tables().stream().map(topics::topicFor).toList();
    }

    Pipeline.PipelineSettings pipelineSettings() {
        var topics = config.kafka().topicNames();
        return new Pipeline.PipelineSettings(config.postgres().slot(), config.agent().id(),
                config.postgres().statusInterval(), config.kafka().commitInterval(), config.kafka().commitMaxBytes(),
                Duration.ofMillis(2), config.kafka().tombstones(),
                config.kafka().onOversized() == io.pgrelay.agent.config.KafkaConfig.OnOversized.SKIP,
                config.kafka().deadLetterTopic(), relation -> topics.topicFor(relation.tableId()),
                tableTopics(), config.cluster(),
                config.kafka().schemaTopic(), config.postgres().publication(),
                config.snapshot().mode(), config.snapshot().chunkSize(), config.kafka().maxTransactionBytes(),
                transactionTimeout().dividedBy(2), config.kafka().transactionEvents() ? config.kafka().transactionTopic() : null);
    }

    /** The producer's transaction timeout: the user's, else pgrelay's default. */
    private Duration transactionTimeout() {
        String set = config.kafka().producer().get("transaction.timeout.ms");
        return set == null ? KafkaSink.DEFAULT_TRANSACTION_TIMEOUT : Duration.ofMillis(Long.parseLong(set.trim()));
    }
}
