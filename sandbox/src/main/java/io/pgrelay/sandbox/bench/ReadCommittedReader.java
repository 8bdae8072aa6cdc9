package io.pgrelay.sandbox.bench;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * A {@code read_committed} consumer of one candidate's topic, on its own thread, from the
 * beginning: counts the change records (tombstones — null values — are not rows) and, for the
 * latency workload, records each one's end-to-end latency. No JSON parsing unless latency is asked for.
 */
final class ReadCommittedReader implements Runnable {

    private final String bootstrap;
    private final String topic;
    private final long expected;
    /** The record value's PostgreSQL commit time in µs since the epoch; null when only counting. */
    private final ToLongFunction<byte[]> commitMicros;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong doneAt = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    /** Records committed before this (µs since the epoch) are warm-up: counted, not timed. */
    private volatile long timeFromMicros = Long.MAX_VALUE;
    /** The last record's commit → consumer latency (µs), timed or not; -1 before the first. */
    private volatile long lastLatencyMicros = -1;
    // Only the reader's thread writes these; read them after stop() and join.
    private final Histogram toLogAppend = new Histogram(3_600_000_000L, 3);
    private final Histogram toConsumer = new Histogram(3_600_000_000L, 3);
    /** The slowest commit → consumer latency (µs) of the records committed in each second of the timed run. */
    private final long[] worstBySecond = new long[3_600];
    private volatile Exception failure;
    private Thread thread;

    /** @param expected the count at which {@link #doneAt()} is set (throughput), or {@code Long.MAX_VALUE} */
    ReadCommittedReader(String bootstrap, String topic, long expected, ToLongFunction<byte[]> commitMicros) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.expected = expected;
        this.commitMicros = commitMicros;
    }

    void start() {
        thread = new Thread(this, "bench-reader-" + topic);
        thread.start();
    }

    @Override
    public void run() {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000",
                // "when a consumer can read it": do not let the broker hold a fetch back for long
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos;
            while ((infos = consumer.partitionsFor(topic, Duration.ofSeconds(5))) == null || infos.isEmpty()) {
                if (stop.get()) {
                    return;
                }
                Thread.sleep(50);
            }
            List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (!stop.get()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                long receivedMicros = commitMicros == null || records.isEmpty() ? 0 : nowMicros();
                long rows = 0;
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    if (r.value() == null) {
                        continue;
                    }
                    rows++;
                    if (commitMicros != null) {
                        time(r, receivedMicros);
                    }
                }
                if (count.addAndGet(rows) >= expected && doneAt.get() == 0) {
                    doneAt.set(System.nanoTime());
                }
            }
        } catch (Exception e) {
            failure = e;
        }
    }

    private void time(ConsumerRecord<byte[], byte[]> r, long receivedMicros) {
        long committed = commitMicros.applyAsLong(r.value());
        lastLatencyMicros = receivedMicros - committed;
        if (committed < timeFromMicros) {
            return;
        }
        if (r.timestampType() != TimestampType.LOG_APPEND_TIME) {
            throw new IllegalStateException("topic " + topic + " has " + r.timestampType() + ", not LogAppendTime");
        }
        // Same host, same clock; a negative value would be clock granularity (ms for the broker)
        toLogAppend.recordValue(Math.max(0, r.timestamp() * 1000 - committed));
        toConsumer.recordValue(Math.max(0, receivedMicros - committed));
        int second = (int) Math.min(worstBySecond.length - 1, (committed - timeFromMicros) / 1_000_000);
        worstBySecond[second] = Math.max(worstBySecond[second], receivedMicros - committed);
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    /** True once a record arrived less than {@code micros} after its commit: the candidate keeps up. */
    boolean keepsUp(long micros) {
        long last = lastLatencyMicros;
        return last >= 0 && last < micros;
    }

    /** Time the records committed from now on. */
    void timeFromNow() {
        timeFromMicros = nowMicros();
    }

    long count() {
        return count.get();
    }

    long doneAt() {
        return doneAt.get();
    }

    Exception failure() {
        return failure;
    }

    /** Stops reading and waits for the thread; the latency is then final. */
    void stop() throws InterruptedException {
        stop.set(true);
        if (thread != null) {
            thread.join(10_000);
        }
    }

    /**
     * The slowest record of each second of the timed run, by commit time, in ms ({@code 12 9 310 …}):
     * tells a tail spread over the run from one confined to its start.
     */
    String worstPerSecond() {
        int last = worstBySecond.length - 1;
        while (last > 0 && worstBySecond[last] == 0) {
            last--;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i <= last; i++) {
            out.append(i == 0 ? "" : " ").append(worstBySecond[i] / 1000);
        }
        return out.toString();
    }

    Latency latency() {
        return new Latency(toConsumer.getTotalCount(), Latency.Percentiles.of(toLogAppend), Latency.Percentiles.of(toConsumer));
    }
}
