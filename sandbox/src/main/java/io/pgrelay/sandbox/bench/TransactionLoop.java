package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.server.Kafka;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A transactional producer loop shaped like pgrelay's sink, against an in-process broker with Kafka's
 * default transaction settings: "PostgreSQL transactions" of 10 records fall due RATE times a
 * second; the loop sends what is due into a Kafka transaction and commits (with a checkpoint record
 * on a second topic) whenever nothing more is due. A {@code read_committed} consumer times due →
 * visible; the broker's own metrics count the partitions it could not add to a transaction at once.
 * Variants: {@code one} (as pgrelay was), {@code async} (a DescribeTransactions look-up fired as
 * each commit returns; the next transaction's first send waits until the commit is complete, as
 * pgrelay's {@code CommitCompletion}), {@code describe} (the same look-up, polled just before the
 * first send), {@code two} (two transactional ids used alternately), {@code gap:MS} (a fixed pause
 * after each commit). BENCHMARKS.md, "Latency on a stock broker", has a run.
 *
 * <pre>java -cp sandbox/target/pgrelay-sandbox.jar io.pgrelay.sandbox.bench.TransactionLoop VARIANT SECONDS [RATE]</pre>
 */
public final class TransactionLoop {

    private TransactionLoop() {
    }

    /** Due → visible, µs: only the consumer's thread writes it; read after that thread ended. */
    private static final Histogram visible = new Histogram(3_600_000_000L, 3);
    /** Only the loop's thread writes these (the first-ack one from the producer's I/O thread: one record per transaction). */
    private static final Histogram commitUs = new org.HdrHistogram.SynchronizedHistogram(3_600_000_000L, 3);
    private static final Histogram firstAckUs = new org.HdrHistogram.SynchronizedHistogram(3_600_000_000L, 3);
    private static final Histogram waitUs = new Histogram(3_600_000_000L, 3);
    /** Records due before this (µs since the epoch) are the warm-up's: not timed. */
    private static volatile long measureFromMicros = Long.MAX_VALUE;

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !args[0].matches("one|async|describe|two|gap:[0-9.]+")) {
            System.err.println("usage: TransactionLoop one|async|describe|two|gap:MS SECONDS [TRANSACTIONS_PER_SECOND]");
            System.exit(2);
        }
        String variant = args[0];
        int seconds = Integer.parseInt(args[1]);
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int rows = 10;
        try (Kafka kafka = Kafka.start(Kafka.Tuning.STOCK)) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("data", 1, (short) 1).configs(Map.of("message.timestamp.type", "LogAppendTime")),
                        new NewTopic("ckpt", 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
                run(bootstrap, admin, variant, seconds, rate, rows);
            }
        }
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap, String id) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");   // as pgrelay's KafkaSink, like the next settings
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "5");
        p.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "100");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }

    static long nowMicros() {
        java.time.Instant i = java.time.Instant.now();
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
    }

    static void run(String bootstrap, Admin admin, String variant, int seconds, int rate, int rows) throws Exception {
        boolean two = variant.equals("two");
        boolean describe = variant.equals("describe");
        boolean async = variant.equals("async");
        org.apache.kafka.common.KafkaFuture<TransactionDescription> lookup = null;
        long gapNanos = variant.startsWith("gap:") ? (long) (Double.parseDouble(variant.substring(4)) * 1e6) : 0;
        KafkaProducer<byte[], byte[]> a = producer(bootstrap, "loop-a");
        KafkaProducer<byte[], byte[]> b = two ? producer(bootstrap, "loop-b") : null;
        AtomicBoolean stop = new AtomicBoolean();
        Thread reader = new Thread(() -> read(bootstrap, stop));
        reader.start();
        Thread.sleep(2000);
        long intervalNanos = 1_000_000_000L / rate;
        long startNanos = System.nanoTime();
        long startMicros = nowMicros();
        long warmupNanos = 5_000_000_000L;
        measureFromMicros = startMicros + warmupNanos / 1000;
        long endNanos = startNanos + warmupNanos + seconds * 1_000_000_000L;
        long next = 0;  // index of the next PG transaction to send
        boolean inTxn = false;
        boolean useB = false;
        KafkaProducer<byte[], byte[]> current = a;
        String currentId = "loop-a";
        long lastCommitEnd = 0;
        long commits = 0;
        long describes = 0;
        byte[] pad = new byte[100];
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        long fail0 = 0, ver0 = 0;
        boolean measured = false;
        while (true) {
            long now = System.nanoTime();
            if (!measured && now - startNanos >= warmupNanos) {
                measured = true;
                fail0 = meter(mbs, "VerificationFailureRate");
                ver0 = meter(mbs, "VerificationTimeMs");
                commitUs.reset();
                firstAckUs.reset();
                waitUs.reset();
                commits = 0;
                describes = 0;
            }
            if (now >= endNanos && !inTxn) {
                break;
            }
            long due = (now - startNanos) / intervalNanos + 1;  // transactions 0..due-1 have committed in "PostgreSQL"
            if (next >= due) {
                if (inTxn) {
                    long t0 = System.nanoTime();
                    current.send(new ProducerRecord<>("ckpt", "k".getBytes(), ByteBuffer.allocate(8).putLong(next).array()));
                    current.commitTransaction();
                    long t1 = System.nanoTime();
                    commitUs.recordValue((t1 - t0) / 1000);
                    commits++;
                    lastCommitEnd = t1;
                    inTxn = false;
                    if (async) {
                        lookup = admin.describeTransactions(Set.of(currentId)).description(currentId);
                        describes++;
                    }
                    if (two) {
                        useB = !useB;
                        current = useB ? b : a;
                        currentId = useB ? "loop-b" : "loop-a";
                    }
                } else {
                    LockSupport.parkNanos(Math.min(200_000, startNanos + due * intervalNanos - now));
                }
                continue;
            }
            if (!inTxn) {
                long w0 = System.nanoTime();
                if (gapNanos > 0) {
                    while (System.nanoTime() - lastCommitEnd < gapNanos) {
                        LockSupport.parkNanos(100_000);
                    }
                }
                if (describe && lastCommitEnd != 0) {
                    while (true) {
                        TransactionDescription d = admin.describeTransactions(Set.of(currentId)).description(currentId).get();
                        describes++;
                        if (d.state() != TransactionState.PREPARE_COMMIT) {
                            break;
                        }
                    }
                }
                if (async && lookup != null) {
                    while (true) {
                        TransactionDescription d = lookup.get();
                        if (d.state() != TransactionState.PREPARE_COMMIT) {
                            break;
                        }
                        lookup = admin.describeTransactions(Set.of(currentId)).description(currentId);
                        describes++;
                    }
                    lookup = null;
                }
                waitUs.recordValue((System.nanoTime() - w0) / 1000);
                current.beginTransaction();
                inTxn = true;
                final long sentAt = System.nanoTime();
                boolean first = true;
                for (; next < due; next++) {
                    long dueMicros = startMicros + ((next + 1) * intervalNanos) / 1000;
                    for (int r = 0; r < rows; r++) {
                        byte[] v = ByteBuffer.allocate(8 + pad.length).putLong(dueMicros).put(pad).array();
                        if (first) {
                            current.send(new ProducerRecord<>("data", null, v), (m, e) -> firstAckUs.recordValue((System.nanoTime() - sentAt) / 1000));
                            first = false;
                        } else {
                            current.send(new ProducerRecord<>("data", null, v));
                        }
                    }
                }
                continue;
            }
            for (; next < due; next++) {
                long dueMicros = startMicros + ((next + 1) * intervalNanos) / 1000;
                for (int r = 0; r < rows; r++) {
                    current.send(new ProducerRecord<>("data", null, ByteBuffer.allocate(8 + pad.length).putLong(dueMicros).put(pad).array()));
                }
            }
        }
        Thread.sleep(1000);
        stop.set(true);
        reader.join();
        long fails = meter(mbs, "VerificationFailureRate") - fail0;
        long vers = meter(mbs, "VerificationTimeMs") - ver0;
        System.out.printf("variant %s rate %d txn/s x %d rows, %d s: commits %d (%.0f/s), describes %d%n", variant, rate, rows, seconds,
                commits, commits / (double) seconds, describes);
        System.out.printf("  broker: verifications %d, failed partition verifications %d (%.1f%% of commits)%n", vers, fails, 100.0 * fails / commits);
        print("  due->visible ms", visible, 1000.0);
        print("  commitTransaction ms", commitUs, 1000.0);
        print("  first send->ack ms", firstAckUs, 1000.0);
        print("  wait before begin ms", waitUs, 1000.0);
        a.close();
        if (b != null) {
            b.close();
        }
    }

    static long meter(MBeanServer mbs, String name) {
        try {
            return ((Number) mbs.getAttribute(new ObjectName("kafka.server:type=AddPartitionsToTxnManager,name=" + name), "Count")).longValue();
        } catch (Exception e) {
            return -1;
        }
    }

    static void print(String what, Histogram h, double scale) {
        System.out.printf("%s: n %d p50 %.2f p90 %.2f p95 %.2f p99 %.2f p99.9 %.2f max %.2f mean %.2f%n", what, h.getTotalCount(),
                h.getValueAtPercentile(50) / scale, h.getValueAtPercentile(90) / scale, h.getValueAtPercentile(95) / scale,
                h.getValueAtPercentile(99) / scale, h.getValueAtPercentile(99.9) / scale, h.getMaxValue() / scale, h.getMean() / scale);
    }

    static void read(String bootstrap, AtomicBoolean stop) {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition("data", 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            while (!stop.get()) {
                var records = c.poll(Duration.ofMillis(100));
                long now = nowMicros();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    long due = ByteBuffer.wrap(r.value()).getLong();
                    if (due >= measureFromMicros) {
                        visible.recordValue(Math.max(0, now - due));
                    }
                }
            }
        }
    }
}
