package io.pgrelay.agent.checkpoint;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
public final class CheckpointReader extends CommittedTopicReader {

    /** Offsets read back from the end at first: a few dozen transactions' checkpoints and commit markers. */
    private static final long TAIL = 64;

    private final String cluster;

    public CheckpointReader(Map<String, Object> clientConfig, String topic, String cluster) {
        super(clientConfig, topic);
        this.cluster = cluster;
    }

    /** One-shot read with a consumer of its own. */
    public static Optional<Checkpoint> latest(Map<String, Object> clientConfig, String topic, String cluster, Duration timeout) {
        try (CheckpointReader reader = new CheckpointReader(clientConfig, topic, cluster)) {
            return reader.latest(timeout);
        }
    }

    /** What one read saw: the newest checkpoint before the offsets where the read stopped. */
    public record Tail(Optional<Checkpoint> checkpoint, Map<TopicPartition, Long> stableEnd) {
    }

    /** The newest committed checkpoint; final only after this cluster's producer ran {@code initTransactions()}. */
    public Optional<Checkpoint> latest(Duration timeout) {
        return readTail(timeout).checkpoint();
    }

    /**
     * The result of an earlier {@link #readTail} brought up to date with what was committed since
     * (see {@link CommittedTopicReader#settle}). Call it after {@code initTransactions()}; then its
     * answer is final.
     */
    public Optional<Checkpoint> settle(Tail early, Duration timeout) {
        return Optional.ofNullable(settle(early.stableEnd(), early.checkpoint().orElse(null), this::newer,
                () -> latest(timeout).orElse(null), "checkpoints", timeout));
    }

    /** {@link #settle} for a standby keeping its read current: the answer and where it now stands. */
    public Tail refresh(Tail early, Duration timeout) {
        Optional<Checkpoint> now = settle(early, timeout);
        return new Tail(now, positions());
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
        if (!assignAll(timeout)) {
            return new Tail(Optional.empty(), Map.of());
        }
        Map<TopicPartition, Long> end = stableEnd(timeout);
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
        for (long window = TAIL; ; window *= 8) {
            boolean wholeTopic = true;
            for (TopicPartition tp : partitions) {
                long from = Math.max(begin.get(tp), end.get(tp) - window);
                wholeTopic &= from == begin.get(tp);
                consumer.seek(tp, from);
            }
            Checkpoint[] latest = {null};
            pollUntil(end, deadline, "checkpoints", r -> latest[0] = newer(latest[0], r));
            if (latest[0] != null || wholeTopic) {
                return new Tail(Optional.ofNullable(latest[0]), positions());
            }
        }
    }

    /**
     * The checkpoint of this cluster in {@code r} if it has one, else {@code latest}. Ties go to the
     * later record: a transaction that only moved the snapshot on repeats the position of the one
     * before it.
     */
    private Checkpoint newer(Checkpoint latest, ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null || r.value() == null || !cluster.equals(new String(r.key(), StandardCharsets.UTF_8))) {
            return latest;
        }
        Checkpoint c = Checkpoint.fromJson(r.value());
        return latest == null || !latest.position().isAfter(c.position()) ? c : latest;
    }
}
