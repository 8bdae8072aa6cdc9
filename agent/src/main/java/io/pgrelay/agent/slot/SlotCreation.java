package io.pgrelay.agent.slot;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.kafka.KafkaClients;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.kafka.EventHeaders;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.PublicationAdmin;
import io.pgrelay.agent.postgres.SlotAdmin;
import io.pgrelay.agent.postgres.SlotState;
import io.pgrelay.agent.snapshot.SnapshotState;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Creates the cluster's slot together with its {@link SlotOrigin}, and records that origin in the
 * checkpoints topic, in a Kafka transaction of the cluster's own transactional id (which fences
 * any leader still writing). Two occasions:
 * <ul>
 *   <li>a new cluster ({@code run} or {@code init} when there is no slot and no checkpoint): the
 *       record has no position yet, so the first leader still takes the initial snapshot;</li>
 *   <li>a lost slot ({@code snapshot.mode: when_needed}, or {@code init --resnapshot}): the slot
 *       of that name is dropped and created anew, and one Kafka transaction writes, per published
 *       table, a {@code truncate} event marked {@code "resnapshot":true} — what a consumer holds of
 *       the table may miss the changes of the gap, so it starts over — and a checkpoint whose
 *       snapshot state queues every published table. The next leader streams the new slot after
 *       those events and sends each table's rows as the snapshot reaches them.</li>
 * </ul>
 * A crash between creating the slot and the Kafka commit leaves a slot the checkpoint does not
 * vouch for; the next attempt drops and creates it again.
 */
public final class SlotCreation {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** SQLSTATE duplicate_object: another agent created the slot first. */
    private static final String DUPLICATE_OBJECT = "42710";

    private final PgRelayConfig config;
    private final PgConnections connections;

    public SlotCreation(PgRelayConfig config, PgConnections connections) {
        this.config = config;
        this.connections = connections;
    }

    /**
     * A new cluster: creates the slot and records its origin (a checkpoint with no position).
     *
     * @return the origin; empty when a slot of that name appeared first (another agent made it)
     */
    public Optional<SlotOrigin> createForNewCluster() throws SQLException {
        SlotOrigin origin;
        try (Connection c = connections.open(); Connection replication = connections.openReplication()) {
            origin = SlotAdmin.createWithOrigin(replication, c, config.postgres().slot());
        } catch (SQLException e) {
            if (DUPLICATE_OBJECT.equals(e.getSQLState())) {
                return Optional.empty();
            }
            throw e;
        } catch (PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
        try (KafkaSink sink = openSink()) {
            sink.begin();
            sink.commit(new Checkpoint(Position.NONE, 0, config.agent().id(), origin.consistentPoint(), origin,
                    SnapshotState.NONE));
        }
        return Optional.of(origin);
    }

    /** What {@link #recreate} did. */
    public record Recreated(SlotOrigin origin, boolean dropped, List<TableId> tables) {
    }

    /**
     * Drops the slot of the configured name when there is one (refusing one in use), creates it
     * anew and writes the reset events and a checkpoint that queues a snapshot of every published table.
     *
     * @param last the newest checkpoint (its epoch is kept)
     */
    public Recreated recreate(Optional<Checkpoint> last) throws SQLException, SlotAdmin.SlotInUseException {
        String slot = config.postgres().slot();
        SlotOrigin origin;
        boolean dropped;
        List<TableId> tables;
        try (Connection c = connections.open()) {
            SlotAdmin admin = new SlotAdmin(c);
            Optional<SlotState> existing = admin.read(slot);
            dropped = existing.isPresent() && admin.drop(slot);
            tables = new PublicationAdmin(c).publishedTables(config.postgres().publication());
            try (Connection replication = connections.openReplication()) {
                origin = SlotAdmin.createWithOrigin(replication, c, slot);
            }
        } catch (PgConnectException e) {
            throw new SQLException(e.getMessage(), e.sqlState(), e);
        }
        long epoch = last.map(Checkpoint::epoch).orElse(0L);
        String agent = config.agent().id();
        // Just before the slot's first change: every event of the new stream comes after these.
        Lsn at = Lsn.of(origin.consistentPoint().value() - 1);
        EventHeaders headers = new EventHeaders(epoch, agent);
        var topics = config.kafka().topicNames();
        try (KafkaSink sink = openSink()) {
            sink.begin();
            long seq = 0;
            for (TableId table : tables) {
                String topic = topics.topicFor(table);
                sink.ensureTopic(topic);
                sink.send(topic, null, resetEvent(table, at, seq), headers.of(at.value(), at.value(), seq, Op.TRUNCATE));
                seq++;
            }
            sink.commit(new Checkpoint(new Position(at, seq - 1), epoch, agent, origin.consistentPoint(), origin,
                    SnapshotState.NONE.request(tables)));
        }
        return new Recreated(origin, dropped, tables);
    }

    private byte[] resetEvent(TableId table, Lsn at, long seq) {
        ObjectNode n = JSON.createObjectNode();
        n.put("op", "truncate");
        n.put("table", table.toString());
        n.putNull("key");
        n.putNull("before");
        n.putNull("after");
        n.putArray("unchanged");
        n.put("lsn", at.toString());
        n.put("commitLsn", at.toString());
        n.put("xid", 0);
        n.put("seq", seq);
        n.put("committedAt", Instant.now().truncatedTo(ChronoUnit.MICROS).toString());
        n.put("cluster", config.cluster());
        n.put("resnapshot", true);
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private KafkaSink openSink() {
        return KafkaSink.prepare(KafkaClients.config(config.kafka(), "pgrelay-" + config.agent().id()),
                config.kafka().producerSettings(), config.cluster(), config.kafka().checkpointTopic(), config.kafka().partitions()).activate();
    }
}
