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
 * Reads the newest committed checkpoint of a cluster. What {@link #latest} returns is final only
 * once the new leader's producer has run {@code initTransactions()}, which fences the old leader
 * and settles its last transaction. A takeover need not wait for that to start reading, though:
 * {@link #readTail} may run at the same time as the slot is taken and the producer fenced, and
 * {@link #settle} afterwards costs one round trip when nothing changed in between — the read's
 * stable end offsets are the proof. A standby keeps a reader open (assigned, connected) so that a
 * takeover spends only the read itself.
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

    /** What one read saw: the newest checkpoint below the partitions' last stable offsets. */
    public record Tail(Optional<Checkpoint> checkpoint, Map<TopicPartition, Long> stableEnd) {
    }

    /** The newest committed checkpoint; final only after this cluster's producer ran {@code initTransactions()}. */
    public Optional<Checkpoint> latest(Duration timeout) {
        return readTail(timeout).checkpoint();
    }

    /**
     * The result of an earlier {@link #readTail} if the topic's last stable offsets have not moved
     * since (nothing committed or aborted after it, so the read_committed view is the same), else a
     * fresh read. Call it after {@code initTransactions()}; then its answer is final.
     */
    public Optional<Checkpoint> settle(Tail early, Duration timeout) {
        if (!early.stableEnd().isEmpty() && consumer.endOffsets(partitions, timeout).equals(early.stableEnd())) {
            return early.checkpoint();
        }
        return latest(timeout);
    }

    /** Makes a read blocked in another thread give up with {@link org.apache.kafka.common.errors.WakeupException}. */
    public void wakeup() {
        consumer.wakeup();
    }

    /**
     * The newest committed checkpoint and the offsets it was read against. Reads only the tail of the topic: every Kafka transaction
     * writes its checkpoint last, so the newest committed one sits just before the end (offsets
     * between are commit markers, or records of aborted transactions that {@code read_committed}
     * hides). The window widens until it holds a checkpoint or covers the whole topic — the topic
     * is compacted, but until the cleaner runs it holds one record per transaction ever written.
     */
    public Tail readTail(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (partitions.isEmpty()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return new Tail(Optional.empty(), Map.of());
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
                        if (latest == null || c.position().isAfter(latest.position())) {
                            latest = c;
                        }
                    }
                }
            }
            if (latest != null || wholeTopic) {
                return new Tail(Optional.ofNullable(latest), Map.copyOf(end));
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
