package io.pgrelay.agent.checkpoint;

import io.pgrelay.agent.schema.SchemaEvents;
import io.pgrelay.agent.schema.TableSchema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads, from the schema topic, the last shape this cluster published for each table, so that a
 * new leader publishes a schema event only for a shape that differs from it — not again on every
 * restart. Like {@link CheckpointReader}, the answer is final only once the new leader's producer
 * has fenced the old one; a read made before that is confirmed by {@link #settle} (one end-offset
 * lookup when nothing settled since) or redone.
 *
 * <p>The topic is compacted and keyed by table, and schema events are rare, so it is read whole.
 * Thread rule: one thread at a time.
 */
public final class SchemaTopicReader extends CommittedTopicReader {

    /** What one read saw: each table's last shape before the offsets where the read stopped. */
    public record Published(Map<String, TableSchema> tables, Map<TopicPartition, Long> stableEnd) {
    }

    public SchemaTopicReader(Map<String, Object> clientConfig, String topic) {
        super(clientConfig, topic);
    }

    /** Table ({@code schema.table}) → its last published shape; empty when the topic does not exist yet. */
    public static Map<String, TableSchema> lastPublished(Map<String, Object> clientConfig, String topic, Duration timeout) {
        try (SchemaTopicReader reader = new SchemaTopicReader(clientConfig, topic)) {
            return reader.read(timeout).tables();
        }
    }

    /** Reads the whole topic up to its last stable offsets. */
    public Published read(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, TableSchema> last = new HashMap<>();
        if (!assignAll(timeout)) {
            return new Published(last, Map.of());
        }
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = stableEnd(timeout);
        pollUntil(end, deadline, "schema events", r -> remember(last, r));
        return new Published(last, positions());
    }

    /** {@link #settle} for a standby keeping its read current: the answer and where it now stands. */
    public Published refresh(Published early, Duration timeout) {
        Map<String, TableSchema> now = settle(early, timeout);
        return new Published(now, positions());
    }

    /**
     * The earlier read brought up to date with what was committed since (see
     * {@link CommittedTopicReader#settle}); final after fencing.
     */
    public Map<String, TableSchema> settle(Published early, Duration timeout) {
        return settle(early.stableEnd(), new HashMap<>(early.tables()), (tables, r) -> {
            remember(tables, r);
            return tables;
        }, () -> read(timeout).tables(), "schema events", timeout);
    }

    private static void remember(Map<String, TableSchema> last, ConsumerRecord<byte[], byte[]> r) {
        TableSchema schema = SchemaEvents.parseSchema(r.value());
        if (schema != null) {
            last.put(schema.table(), schema);
        }
    }
}
