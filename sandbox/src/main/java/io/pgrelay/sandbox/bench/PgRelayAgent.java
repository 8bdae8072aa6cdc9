package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.AgentConfigs;
import io.pgrelay.sandbox.AgentProcess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * pgrelay itself: a leader agent as a child process ({@code -Xmx256m}, default settings), and a
 * standby started once the leader holds the slot, as in production. Done when the slot's
 * {@code confirmed_flush_lsn} reached the workload's end — the agent confirms only after the Kafka
 * commit — and a {@code read_committed} consumer has counted every row. Afterwards (untimed) the
 * consumer keeps reading for a second: one record too many fails the run.
 */
final class PgRelayAgent implements Candidate {

    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);
    private static final String[] JVM_ARGS = jvmArgs();

    /** -Xmx256m and fail fast on OOM; {@code -Dbench.agentJvmArgs="..."} adds more (e.g. a JFR recording). */
    private static String[] jvmArgs() {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"));
        String extra = System.getProperty("bench.agentJvmArgs", "").trim();
        if (!extra.isEmpty()) {
            args.addAll(java.util.List.of(extra.split("\\s+")));
        }
        return args.toArray(String[]::new);
    }

    private final boolean withStandby;

    PgRelayAgent(boolean withStandby) {
        this.withStandby = withStandby;
    }

    /** The agent's cluster for a run; its slot and publication are {@code pgrelay_<cluster>}. */
    static String cluster(String run) {
        return "bench_" + run;
    }

    static String publication(String run) {
        return "pgrelay_" + cluster(run);
    }

    @Override
    public String name() {
        return "pgrelay";
    }

    @Override
    public String slotPrefix() {
        return "pgrelay_bench_";
    }

    @Override
    public Measurement drain(Backlog b) throws Exception {
        String cluster = b.slot().substring("pgrelay_".length());
        AgentConfigs configs = new AgentConfigs(b.sandbox(), cluster).tables(b.table());
        String topic = cluster + "." + b.table();
        String bootstrap = b.sandbox().kafka().bootstrapServers();
        RecordCounter counter = new RecordCounter(bootstrap, topic, b.rows());
        try (SlotPositions slots = new SlotPositions(b.sandbox())) {
            long t0 = System.nanoTime();
            AgentProcess standby = null;
            try (AgentProcess agent = AgentProcess.start("bench-1", configs.yaml("bench-1", freePort()), JVM_ARGS)) {
                Thread counting = new Thread(counter, "bench-record-counter");
                counting.start();
                long peak = -1;
                long flushedAt = 0;
                long attachedAt = 0;
                while (flushedAt == 0 || counter.doneAt() == 0) {
                    if (attachedAt == 0 && slots.active(b.slot())) {
                        attachedAt = System.nanoTime();
                        if (withStandby) {
                            // only now, so that the measured process is the one that won the slot
                            standby = AgentProcess.start("bench-2", configs.yaml("bench-2", freePort()), JVM_ARGS);
                        }
                    }
                    peak = Math.max(peak, ProcessMemory.peakRssKib(agent.pid()));
                    if (!agent.isAlive()) {
                        throw new IllegalStateException("the agent died while draining slot " + b.slot() + ":\n" + agent.log());
                    }
                    if (flushedAt == 0 && slots.confirmedFlush(b.slot()) >= b.endLsn()) {
                        flushedAt = System.nanoTime();
                    }
                    if (counter.failure() != null) {
                        throw new IllegalStateException("the counting consumer failed", counter.failure());
                    }
                    if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                        throw new IllegalStateException("pgrelay did not drain slot " + b.slot() + " within 120 s: "
                                + counter.count() + " of " + b.rows() + " records counted, confirmed_flush_lsn "
                                + Lsns.text(slots.confirmedFlush(b.slot())) + " of " + Lsns.text(b.endLsn()));
                    }
                    Thread.sleep(20);
                }
                double seconds = (Math.max(flushedAt, counter.doneAt()) - t0) / 1e9;
                peak = Math.max(peak, ProcessMemory.peakRssKib(agent.pid()));
                Thread.sleep(1_000);
                counter.stop();
                counting.join(10_000);
                if (counter.count() != b.rows()) {
                    throw new IllegalStateException("the read_committed consumer counted " + counter.count() + " records, expected "
                            + b.rows() + ": duplicates");
                }
                String note = "-Xmx256m, default settings; " + (standby == null ? "no standby"
                        : "standby peak RSS " + ProcessMemory.peakRssKib(standby.pid()) / 1024 + " MB")
                        + "; leader log: " + problemLines(agent.log());
                return new Measurement(seconds, attachedAt == 0 ? 0 : (attachedAt - t0) / 1e9, peak, note);
            } finally {
                if (standby != null) {
                    standby.close();
                }
            }
        } finally {
            counter.stop();
        }
    }

    /** How many WARN and ERROR lines the agent logged: a clean run has none worth reading. */
    private static String problemLines(String log) {
        long warn = log.lines().filter(l -> l.contains(" WARN ")).count();
        long error = log.lines().filter(l -> l.contains(" ERROR ")).count();
        return warn + " WARN, " + error + " ERROR lines";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A read_committed consumer that only counts records: no JSON parsing in the loop. */
    private static final class RecordCounter implements Runnable {

        private final String bootstrap;
        private final String topic;
        private final long expected;
        private final AtomicLong count = new AtomicLong();
        private final AtomicLong doneAt = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private volatile Exception failure;

        RecordCounter(String bootstrap, String topic, long expected) {
            this.bootstrap = bootstrap;
            this.topic = topic;
            this.expected = expected;
        }

        @Override
        public void run() {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<PartitionInfo> infos;
                // The agent creates the topic when streaming starts.
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
                    count.addAndGet(consumer.poll(Duration.ofMillis(100)).count());
                    if (doneAt.get() == 0 && count.get() >= expected) {
                        doneAt.set(System.nanoTime());
                    }
                }
            } catch (Exception e) {
                failure = e;
            }
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

        void stop() {
            stop.set(true);
        }
    }
}
