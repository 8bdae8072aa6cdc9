package io.pgrelay.agent.checkpoint;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import io.pgrelay.agent.kafka.KafkaFailures;
import io.pgrelay.agent.kafka.KafkaSink;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code read_committed} consumer of every partition of one topic, without a group: what the
 * takeover's readers of pgrelay's own topics share. Reads made before the new leader fenced the old
 * one are settled afterwards ({@link #settle}) by comparing the partitions' last stable offsets: if
 * they have not moved, nothing was committed or aborted since; if they have, the read goes on.
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

    /**
     * Where the consumer stands after a read: it has handed out every record before these offsets,
     * and with read_committed all of those were settled (it stops at the last stable offsets).
     * A read's answer covers exactly these records, so {@link #settle} can go on from here.
     */
    final Map<TopicPartition, Long> positions() {
        Map<TopicPartition, Long> at = new HashMap<>();
        for (TopicPartition tp : partitions) {
            at.put(tp, consumer.position(tp));
        }
        return Map.copyOf(at);
    }

    /** With read_committed, the end offsets are the last stable offsets: everything before them is settled. */
    final Map<TopicPartition, Long> stableEnd(Duration timeout) {
        return Map.copyOf(consumer.endOffsets(partitions, timeout));
    }

    /**
     * Polls until every partition's position reaches {@code end}, handing each record to
     * {@code each}; {@code what} names the read in the error when the deadline passes first.
     */
    final void pollUntil(Map<TopicPartition, Long> end, long deadlineNanos, String what,
                         java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
        while (!caughtUp(end)) {
            if (System.nanoTime() - deadlineNanos > 0) {
                throw new IllegalStateException("reading " + what + " from " + topic + " did not finish in time");
            }
            ConsumerRecords<byte[], byte[]> records;
            try {
                records = consumer.poll(Duration.ofMillis(200));
            } catch (TopicAuthorizationException e) {
                throw new KafkaSink.KafkaSinkException(KafkaFailures.describe(e, "READ", "topic " + topic), e);
            }
            for (ConsumerRecord<byte[], byte[]> r : records) {
                each.accept(r);
            }
        }
    }

    /**
     * Brings an earlier read, which stopped at the offsets {@code earlyEnd} ({@link #positions()}
     * after it) with the answer {@code early}, up to date; called after the new leader's producer fenced the old one,
     * its answer is final. The answer stands as it was when the offsets have not moved since
     * (nothing was committed or aborted after the read); else the records settled since are read on
     * from where the read stopped, each added to the answer by {@code fold}; and when the read
     * cannot go on from there (none was made, or the consumer moved past it), {@code readAgain}.
     */
    final <A> A settle(Map<TopicPartition, Long> earlyEnd, A early,
                       java.util.function.BiFunction<A, ConsumerRecord<byte[], byte[]>, A> fold,
                       java.util.function.Supplier<A> readAgain, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (earlyEnd.isEmpty() || !assignAll(timeout)) {
            return readAgain.get();
        }
        Map<TopicPartition, Long> end = stableEnd(timeout);
        if (end.equals(earlyEnd)) {
            return early;
        }
        if (!canContinueFrom(earlyEnd)) {
            return readAgain.get();
        }
        var answer = new Object() {
            A value = early;
        };
        pollUntil(end, deadline, what, r -> answer.value = fold.apply(answer.value, r));
        return answer.value;
    }

    /**
     * Whether an earlier read that stopped at {@code earlier} can simply go on to newer stable end
     * offsets: the consumer still stands exactly there. Everything below a last stable offset is
     * decided, so the records between the old and the new one are just what was settled since.
     */
    private boolean canContinueFrom(Map<TopicPartition, Long> earlier) {
        if (earlier.isEmpty() || !earlier.keySet().equals(Set.copyOf(partitions))) {
            return false;
        }
        for (Map.Entry<TopicPartition, Long> e : earlier.entrySet()) {
            if (consumer.position(e.getKey()) != e.getValue()) {
                return false;
            }
        }
        return true;
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
