package io.pgrelay.agent.kafka;

import io.pgrelay.agent.schema.SchemaEvents;
import io.pgrelay.agent.schema.TableSchema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
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
public final class SchemaTopicReader implements AutoCloseable {

    /** What one read saw: each table's last shape below the partitions' last stable offsets. */
    public record Published(Map<String, TableSchema> tables, Map<TopicPartition, Long> stableEnd) {
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private List<TopicPartition> partitions = List.of();

    public SchemaTopicReader(Map<String, Object> clientConfig, String topic) {
        Map<String, Object> props = new HashMap<>(clientConfig);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
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
        if (partitions.isEmpty()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return new Published(last, Map.of());
            }
            partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
        }
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        while (!caughtUp(end)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading schema events from " + topic + " did not finish within " + timeout);
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                TableSchema schema = SchemaEvents.parseSchema(r.value());
                if (schema != null) {
                    last.put(schema.table(), schema);
                }
            }
        }
        return new Published(last, Map.copyOf(end));
    }

    /** The earlier read if the last stable offsets have not moved since, else a fresh read; final after fencing. */
    public Map<String, TableSchema> settle(Published early, Duration timeout) {
        if (!early.stableEnd().isEmpty() && consumer.endOffsets(partitions, timeout).equals(early.stableEnd())) {
            return early.tables();
        }
        return read(timeout).tables();
    }

    /** Makes a read blocked in another thread give up with {@link org.apache.kafka.common.errors.WakeupException}. */
    public void wakeup() {
        consumer.wakeup();
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
