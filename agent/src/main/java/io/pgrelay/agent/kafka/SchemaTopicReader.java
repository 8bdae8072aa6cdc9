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
 * restart. Like {@link CheckpointReader}, call it only after the new leader's producer has fenced
 * the old one: {@code read_committed} then sees every schema event of every committed transaction,
 * and none of the aborted ones.
 *
 * <p>The topic is compacted and keyed by table, and schema events are rare, so it is read whole.
 */
public final class SchemaTopicReader {

    private SchemaTopicReader() {
    }

    /** Table ({@code schema.table}) → its last published shape; empty when the topic does not exist yet. */
    public static Map<String, TableSchema> lastPublished(Map<String, Object> clientConfig, String topic, Duration timeout) {
        Map<String, Object> props = new HashMap<>(clientConfig);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, TableSchema> last = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return last;
            }
            List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            while (!caughtUp(consumer, end)) {
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
        }
        return last;
    }

    private static boolean caughtUp(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
