package io.pgrelay.agent.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the newest committed checkpoint of a cluster. Call {@link #latest} only after the new
 * leader's producer has run {@code initTransactions()}: that fences the old leader and settles its
 * last transaction, so what this reads is final. A standby keeps one open (assigned, connected) so
 * that a takeover spends only the read itself.
 *
 * <p>Thread rule: one thread at a time (the consumer is not thread-safe).
 */
public final class CheckpointReader implements AutoCloseable {

    /** Offsets read back from the end at first: a few dozen transactions' checkpoints and commit markers. */
    private static final long TAIL = 64;

    private final KafkaConsumer<String, byte[]> consumer;
    private final String topic;
    private final String cluster;
    private List<TopicPartition> partitions = List.of();

    public CheckpointReader(Map<String, Object> clientConfig, String topic, String cluster) {
        Map<String, Object> props = new HashMap<>(clientConfig);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20); // on a takeover's critical path: don't let the broker hold the fetch
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.cluster = cluster;
    }

    /** One-shot read with a consumer of its own. */
    public static Optional<Checkpoint> latest(Map<String, Object> clientConfig, String topic, String cluster, Duration timeout) {
        try (CheckpointReader reader = new CheckpointReader(clientConfig, topic, cluster)) {
            return reader.latest(timeout);
        }
    }

    /**
     * The newest committed checkpoint. Reads only the tail of the topic: every Kafka transaction
     * writes its checkpoint last, so the newest committed one sits just before the end (offsets
     * between are commit markers, or records of aborted transactions that {@code read_committed}
     * hides). The window widens until it holds a checkpoint or covers the whole topic — the topic
     * is compacted, but until the cleaner runs it holds one record per transaction ever written.
     */
    public Optional<Checkpoint> latest(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (partitions.isEmpty()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return Optional.empty();
            }
            partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
        }
        // With read_committed, the end offsets are the last stable offsets: everything before them is settled.
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
        for (long window = TAIL; ; window *= 8) {
            boolean wholeTopic = true;
            for (TopicPartition tp : partitions) {
                long from = Math.max(begin.get(tp), end.get(tp) - window);
                wholeTopic &= from == begin.get(tp);
                consumer.seek(tp, from);
            }
            Checkpoint latest = null;
            while (!caughtUp(end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading checkpoints from " + topic + " did not finish within " + timeout);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (cluster.equals(r.key()) && r.value() != null) {
                        Checkpoint c = Checkpoint.fromJson(r.value());
                        // Ties go to the later record: a transaction that only moved the snapshot on
                        // repeats the position of the one before it.
                        if (latest == null || !latest.position().isAfter(c.position())) {
                            latest = c;
                        }
                    }
                }
            }
            if (latest != null || wholeTopic) {
                return Optional.ofNullable(latest);
            }
        }
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
