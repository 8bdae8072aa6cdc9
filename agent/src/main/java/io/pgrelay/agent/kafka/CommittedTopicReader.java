package io.pgrelay.agent.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code read_committed} consumer of every partition of one topic, without a group: what the
 * takeover's readers of pgrelay's own topics share. Reads made before the new leader fenced the old
 * one are settled afterwards by comparing the partitions' last stable offsets
 * ({@link #stableEndUnchanged}): if they have not moved, nothing was committed or aborted since.
 *
 * <p>Thread rule: one thread at a time (the consumer is not thread-safe).
 */
abstract class CommittedTopicReader implements AutoCloseable {

    final KafkaConsumer<byte[], byte[]> consumer;
    final String topic;
    List<TopicPartition> partitions = List.of();

    CommittedTopicReader(Map<String, Object> clientConfig, String topic) {
        Map<String, Object> props = new HashMap<>(clientConfig);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20); // on a takeover's critical path: don't let the broker hold the fetch
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
    }

    /** Assigns every partition of the topic, once; false when the topic does not exist (yet). */
    final boolean assignAll(Duration timeout) {
        if (partitions.isEmpty()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return false;
            }
            partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
        }
        return true;
    }

    /** With read_committed, the end offsets are the last stable offsets: everything before them is settled. */
    final Map<TopicPartition, Long> stableEnd(Duration timeout) {
        return Map.copyOf(consumer.endOffsets(partitions, timeout));
    }

    /** True if an earlier read's stable end offsets are still the topic's: the read_committed view has not changed. */
    final boolean stableEndUnchanged(Map<TopicPartition, Long> earlier, Duration timeout) {
        return !earlier.isEmpty() && stableEnd(timeout).equals(earlier);
    }

    final boolean caughtUp(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Makes a read blocked in another thread give up with {@link org.apache.kafka.common.errors.WakeupException}. */
    public final void wakeup() {
        consumer.wakeup();
    }

    @Override
    public final void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
