package io.pgrelay.agent.leader;

import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.checkpoint.CheckpointReader;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.AvroEncoder;
import io.pgrelay.agent.event.RowEncoder;
import io.pgrelay.agent.event.RowEncoders;
import io.pgrelay.agent.event.JdbcTypeCatalog;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.pipeline.HotPathRehearsal;
import io.pgrelay.agent.pipeline.PipelineSettings;
import io.pgrelay.agent.pipeline.KafkaState;
import io.pgrelay.agent.pipeline.PipelineResources;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.PrimaryKeys;
import io.pgrelay.agent.postgres.SlotAdmin;
import io.pgrelay.agent.postgres.SlotState;
import io.pgrelay.agent.replication.WalReader;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Opens the connections one pipeline run needs, from the agent's configuration; what a standby
 * prepares ahead for it is kept by {@link StandbyWarmUp}.
 */
public final class StreamResources implements PipelineResources {

    private final PgRelayConfig config;
    private final PgConnections connections;
    private final JdbcTypeCatalog typeCatalog;
    /** serialization avro: one registry client for every term, so its cached schema ids outlive a pipeline; else null */
    private final AvroEncoder.Registrar schemaRegistry;
    private final StandbyWarmUp warmUp;
    private final AtomicBoolean rehearsed = new AtomicBoolean();
    private static final Logger log = LoggerFactory.getLogger(StreamResources.class);

    public StreamResources(PgRelayConfig config, PgConnections connections) {
        this.config = config;
        this.connections = connections;
        this.typeCatalog = new JdbcTypeCatalog(connections::borrow);
        this.schemaRegistry = RowEncoders.registrar(config);
        this.warmUp = new StandbyWarmUp(config, connections);
    }

    @Override
    public WalReader openReader() throws SQLException {
        Connection c = warmUp.takeReplication();
        try {
            if (c == null) {
                c = connections.openReplication();
            }
            return WalReader.start(c, config.postgres().slot(), config.postgres().publication(),
                    config.postgres().statusInterval());
        } catch (PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);   // 55006 (another walsender holds the slot) or a broken connection
            throw e;
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // the connection is being discarded either way
            }
        }
    }

    @Override
    public KafkaSink openSink() {
        return warmUp.activateSink();
    }

    @Override
    public RowEncoder newEncoder() {
        return RowEncoders.of(config, typeCatalog, schemaRegistry);
    }

    @Override
    public KafkaState readAhead() {
        return warmUp.readAhead();
    }

    @Override
    public Connection openSnapshotConnection() throws SQLException {
        return asSql(connections::openTextResults);
    }

    @Override
    public Connection openReplicationConnection() throws SQLException {
        return asSql(connections::openReplication);
    }

    /** How a connection is opened; it fails with the PostgreSQL connection's own exception. */
    @FunctionalInterface
    private interface Opening {
        Connection open() throws PgConnectException;
    }

    /** Opens it; a failure to connect comes as the SQLException the snapshot worker handles. */
    private static Connection asSql(Opening opening) throws SQLException {
        try {
            return opening.open();
        } catch (PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
    }

    @Override
    public Optional<SlotState> slotState() throws SQLException {
        try (Connection c = connections.borrow()) {
            return new SlotAdmin(c).read(config.postgres().slot());
        }
    }

    @Override
    public List<String> primaryKey(TableId table) {
        try (Connection c = connections.borrow()) {
            return PrimaryKeys.of(c, table);
        } catch (SQLException e) {
            throw new IllegalStateException("could not read the primary key of " + table + ": " + e.getMessage(), e);
        }
    }

    /** The newest committed checkpoint, read with a consumer of its own (not final: nobody was fenced). */
    public Optional<Checkpoint> latestCheckpoint(Duration timeout) {
        return CheckpointReader.latest(LeaderSettings.kafkaClientConfig(config), config.kafka().checkpointTopic(),
                config.cluster(), timeout);
    }

    PipelineSettings pipelineSettings() {
        return LeaderSettings.pipeline(config);
    }

    /** See {@link StandbyWarmUp#prepareAhead()}. */
    public void prepareAhead() {
        warmUp.prepareAhead();
    }

    boolean prepared() {
        return warmUp.prepared();
    }

    /**
     * Once per process, unless {@code agent.warmUp: false}: rehearses the per-event path on a thread
     * of its own while {@code standingBy} holds (see {@link HotPathRehearsal}).
     */
    void rehearseOnce(BooleanSupplier standingBy) {
        if (!config.agent().warmUp() || !rehearsed.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> rehearse(standingBy), "pgrelay-rehearsal");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    private void rehearse(BooleanSupplier standingBy) {
        try {
            HotPathRehearsal.Result r = Training.rehearsal(config).run(HotPathRehearsal.TRANSACTIONS, standingBy);
            log.info("standby warm-up: ran {} synthetic events through the decoder, encoder and sink loop in {} ms{}",
                    r.events(), r.took().toMillis(), r.interrupted() ? " (stopped early: this agent leads now)" : "");
        } catch (RuntimeException e) {
            log.warn("standby warm-up failed ({}); a takeover is not affected, only not warmed up", e.toString());
        }
    }

    void openReplicationAhead(Duration window) {
        warmUp.openReplicationAhead(window);
    }

    public void close() {
        warmUp.close();
    }
}
