package io.pgrelay.agent;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.event.EventEncoder;
import io.pgrelay.agent.event.JdbcTypeCatalog;
import io.pgrelay.agent.kafka.Checkpoint;
import io.pgrelay.agent.kafka.CheckpointReader;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.kafka.SchemaTopicReader;
import io.pgrelay.agent.schema.TableSchema;
import io.pgrelay.agent.pipeline.Pipeline;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.WalReader;
import org.apache.kafka.clients.admin.AdminClientConfig;

import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Opens the connections one pipeline run needs, from the agent's configuration. */
final class StreamResources implements Pipeline.Resources {

    private final PgRelayConfig config;
    private final PgConnections connections;
    private final JdbcTypeCatalog typeCatalog;
    private final java.util.concurrent.atomic.AtomicReference<KafkaSink.Prepared> warm = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicReference<CheckpointReader> warmReader = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicReference<SchemaTopicReader> warmSchemas = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicBoolean preparing = new java.util.concurrent.atomic.AtomicBoolean();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StreamResources.class);

    StreamResources(PgRelayConfig config, PgConnections connections) {
        this.config = config;
        this.connections = connections;
        this.typeCatalog = new JdbcTypeCatalog(connections::borrow);
    }

    @Override
    public WalReader openReader() throws SQLException {
        try {
            return WalReader.start(connections.openReplication(), config.postgres().slot(), config.postgres().publication(),
                    config.postgres().statusInterval());
        } catch (io.pgrelay.agent.postgres.PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
    }

    @Override
    public KafkaSink openSink() {
        KafkaSink.Prepared prepared = warm.getAndSet(null);
        if (prepared == null) {
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
                        r -> r.latest(Duration.ofSeconds(30))), Pipeline::onNewThread),
                CompletableFuture.runAsync(() -> warmUp(warmSchemas, this::newSchemaReader,
                        r -> r.read(Duration.ofSeconds(30))), Pipeline::onNewThread)};
        CompletableFuture.allOf(steps).whenComplete((done, failure) -> {
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

    /** Connects and assigns a topic reader ahead (one read): a takeover then only seeks and reads to the end. */
    private static <R extends AutoCloseable> void warmUp(java.util.concurrent.atomic.AtomicReference<R> slot,
                                                         java.util.function.Supplier<R> open,
                                                         java.util.function.Consumer<R> firstRead) {
        if (slot.get() != null) {
            return;
        }
        R reader = open.get();
        try {
            firstRead.accept(reader);
        } catch (RuntimeException e) {
            closeQuietly(reader);
            throw e;
        }
        if (!slot.compareAndSet(null, reader)) {
            closeQuietly(reader);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing a Kafka client failed: {}", e.toString());
        }
    }

    /** True once the Kafka clients a takeover needs are connected and the topic readers warm. */
    boolean prepared() {
        return warm.get() != null && warmReader.get() != null && warmSchemas.get() != null;
    }

    void close() {
        KafkaSink.Prepared p = warm.getAndSet(null);
        if (p != null) {
            p.close();
        }
        CheckpointReader r = warmReader.getAndSet(null);
        if (r != null) {
            r.close();
        }
        SchemaTopicReader s = warmSchemas.getAndSet(null);
        if (s != null) {
            s.close();
        }
    }

    @Override
    public EventEncoder newEncoder() {
        return new EventEncoder(config.cluster(), typeCatalog);
    }

    @Override
    public Pipeline.KafkaState readAhead() {
        CheckpointReader warmed = warmReader.getAndSet(null);
        CheckpointReader checkpoints = warmed != null ? warmed : newCheckpointReader();
        SchemaTopicReader warmedSchemas = warmSchemas.getAndSet(null);
        SchemaTopicReader schemas = warmedSchemas != null ? warmedSchemas : newSchemaReader();
        CompletableFuture<CheckpointReader.Tail> earlyCheckpoint = CompletableFuture
                .supplyAsync(() -> checkpoints.readTail(KAFKA_READ_TIMEOUT), Pipeline::onNewThread);
        CompletableFuture<SchemaTopicReader.Published> earlySchemas = CompletableFuture
                .supplyAsync(() -> schemas.read(KAFKA_READ_TIMEOUT), Pipeline::onNewThread);
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
                earlyCheckpoint.whenComplete((tail, failure) -> checkpoints.close());
                earlySchemas.whenComplete((published, failure) -> schemas.close());
            }
        };
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

    /**
     * Settings every Kafka client of the agent shares: the bootstrap servers and whichever of the
     * user's producer settings are client-wide (security, SASL, SSL, timeouts), so the admin client
     * and the checkpoint reader connect the way the producer does.
     */
    static Map<String, Object> kafkaClientConfig(PgRelayConfig config) {
        Map<String, Object> props = new HashMap<>();
        for (Map.Entry<String, String> e : config.kafka().producer().entrySet()) {
            if (AdminClientConfig.configNames().contains(e.getKey())) {
                props.put(e.getKey(), e.getValue());
            }
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "pgrelay-" + config.agent().id());
        return props;
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
                config.snapshot().mode(), config.snapshot().chunkSize());
    }
}
