package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A candidate that streams the slot into a Kafka topic from its own child process — pgrelay,
 * Debezium — so its peak RSS is its own, timed and checked by a {@code read_committed} consumer of
 * that topic. The benchmark creates the topic first (one partition, {@code LogAppendTime}), so
 * every record carries the moment the broker appended it.
 */
abstract class KafkaCandidate implements Candidate {

    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);

    /**
     * Both candidates' JVM: a 192 MB heap and the serial collector — what the JVM picks by itself
     * in a container with one CPU or under 1.8 GB, and what pgrelay's manifests set. G1's own
     * structures alone are ~45 MB on a 256 MB heap (NMT).
     */
    static final java.util.List<String> JVM_ARGS = java.util.List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");
    static final String JVM_NOTE = "-Xmx192m -XX:+UseSerialGC";

    /**
     * Class-data sharing (CDS): an archive of the classes the candidate's JVM loads, written at the
     * exit of an untimed training run ({@code -XX:ArchiveClassesAtExit}) and mapped by every run
     * after it ({@code -XX:SharedArchiveFile}), which saves parsing and verifying them again at each
     * start. Null: no archive. Only the benchmark's main thread touches these.
     */
    private Path cdsArchive;
    private boolean cdsTraining;

    /** The next launch is the training run that writes {@code archive}. */
    void trainCds(Path archive) {
        cdsArchive = archive;
        cdsTraining = true;
    }

    /** After the training run: whether it left an archive for the runs to come. */
    boolean cdsTrained() {
        cdsTraining = false;
        if (cdsArchive != null && !Files.isRegularFile(cdsArchive)) {
            cdsArchive = null;
        }
        return cdsArchive != null;
    }

    /**
     * The CDS option for a process of this launch, if any; only the {@code writer} (the candidate's
     * main process) writes the archive in the training run.
     */
    List<String> cdsArgs(boolean writer) {
        if (cdsArchive == null || (cdsTraining && !writer)) {
            return List.of();
        }
        return List.of((cdsTraining ? "-XX:ArchiveClassesAtExit=" : "-XX:SharedArchiveFile=") + cdsArchive);
    }

    /** What the table's note says about class-data sharing. */
    String cdsNote() {
        return cdsArchive == null || cdsTraining ? "" : ", CDS archive from a training run";
    }

    /** What a candidate streams: {@code table} through {@code publication} from {@code slot} into {@code topic}. */
    record Target(Sandbox sandbox, String table, String publication, String slot, String topic) {
    }

    /** The candidate's running process. */
    interface Child extends AutoCloseable {

        long pid();

        boolean isAlive();

        String log() throws IOException;
    }

    /** The topic this candidate writes {@code table}'s changes to when it streams from {@code slot}. */
    abstract String topic(String slot, String table);

    abstract Child launch(Target target) throws Exception;

    /** The PostgreSQL commit time, µs since the epoch, from one of this candidate's record values. */
    abstract long commitMicros(byte[] value);

    /**
     * Whether "done" also waits for the slot's {@code confirmed_flush_lsn} to reach the end: true
     * for a candidate that confirms only what Kafka committed, and does so promptly.
     */
    abstract boolean confirmsSlot();

    /** Once the child's walsender holds the slot (pgrelay starts its standby here). */
    void attached(Target target) throws Exception {
    }

    /** What the table's note says about this run; {@code log} is the child's output. */
    abstract String note(String log);

    /** After each run, whether it succeeded or not. */
    void finished() throws Exception {
    }

    @Override
    public Measurement drain(Backlog b) throws Exception {
        Target t = new Target(b.sandbox(), b.table(), b.publication(), b.slot(), topic(b.slot(), b.table()));
        createTopic(b.sandbox(), t.topic());
        ReadCommittedReader reader = new ReadCommittedReader(b.sandbox().kafka().bootstrapServers(), t.topic(), b.rows(), null);
        try (SlotPositions slots = new SlotPositions(b.sandbox())) {
            long t0 = System.nanoTime();
            try (Child child = launch(t)) {
                reader.start();
                long peak = -1;
                long flushedAt = confirmsSlot() ? 0 : 1;
                long attachedAt = 0;
                while (flushedAt == 0 || reader.doneAt() == 0) {
                    if (attachedAt == 0 && slots.active(b.slot())) {
                        attachedAt = System.nanoTime();
                        attached(t);
                    }
                    peak = Math.max(peak, ProcessMemory.peakRssKib(child.pid()));
                    checkAlive(child, reader, b.slot());
                    if (flushedAt == 0 && slots.confirmedFlush(b.slot()) >= b.endLsn()) {
                        flushedAt = System.nanoTime();
                    }
                    if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                        throw new IllegalStateException(name() + " did not drain slot " + b.slot() + " within 120 s: "
                                + reader.count() + " of " + b.rows() + " records counted, confirmed_flush_lsn "
                                + Lsns.text(slots.confirmedFlush(b.slot())) + " of " + Lsns.text(b.endLsn()));
                    }
                    Thread.sleep(20);
                }
                double seconds = (Math.max(flushedAt, reader.doneAt()) - t0) / 1e9;
                peak = Math.max(peak, ProcessMemory.peakRssKib(child.pid()));
                ProcessCpu cpu = ProcessCpu.of(child.pid());
                // Untimed: one record too many is a duplicate.
                Thread.sleep(1_000);
                reader.stop();
                if (reader.count() != b.rows()) {
                    throw new IllegalStateException("the read_committed consumer counted " + reader.count() + " records, expected "
                            + b.rows() + ": duplicates");
                }
                return new Measurement(seconds, attachedAt == 0 ? 0 : (attachedAt - t0) / 1e9, peak, note(child.log()), cpu);
            } finally {
                finished();
            }
        } finally {
            reader.stop();
        }
    }

    /**
     * The latency workload: launches the candidate, waits until it holds the slot, writes {@code load}
     * and times every record committed after {@code warmupSeconds}, until the consumer has them all.
     */
    LatencyMeasurement latency(Sandbox sandbox, String table, String publication, String slot, SteadyLoad load,
                               double warmupSeconds) throws Exception {
        Target t = new Target(sandbox, table, publication, slot, topic(slot, table));
        createTopic(sandbox, t.topic());
        ReadCommittedReader reader = new ReadCommittedReader(sandbox.kafka().bootstrapServers(), t.topic(), Long.MAX_VALUE,
                this::commitMicros);
        try (SlotPositions slots = new SlotPositions(sandbox); Child child = launch(t)) {
            reader.start();
            long t0 = System.nanoTime();
            while (!slots.active(slot)) {
                checkAlive(child, reader, slot);
                if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                    throw new IllegalStateException(name() + " did not take slot " + slot + " within 120 s");
                }
                Thread.sleep(20);
            }
            attached(t);
            long peak = -1;
            // The timed part begins after the warm-up and once the candidate keeps up (a record
            // delivered within a second of its commit): a JVM still compiling its path, or
            // draining what queued meanwhile, is start-up, not the steady latency measured here.
            long loadStarted = System.nanoTime();
            AtomicLong keptUpAfter = new AtomicLong(-1);
            Thread warmup = new Thread(() -> {
                try {
                    Thread.sleep((long) (warmupSeconds * 1000));
                    while (!reader.keepsUp(1_000_000) && System.nanoTime() - loadStarted < TimeUnit.SECONDS.toNanos(60)) {
                        Thread.sleep(20);
                    }
                    keptUpAfter.set(System.nanoTime() - loadStarted);
                    reader.timeFromNow();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-warmup");
            // The load runs on its own thread; this one watches the candidate meanwhile.
            warmup.start();
            SteadyLoad.Run writer = load.start(sandbox, table);
            long drainStarted = 0;
            while (writer.running() || reader.count() < writer.written()) {
                peak = Math.max(peak, ProcessMemory.peakRssKib(child.pid()));
                checkAlive(child, reader, slot);
                writer.check();
                if (!writer.running() && drainStarted == 0) {
                    drainStarted = System.nanoTime();
                }
                if (drainStarted != 0 && System.nanoTime() - drainStarted > TimeUnit.SECONDS.toNanos(60)) {
                    throw new IllegalStateException(name() + " delivered " + reader.count() + " of " + writer.written()
                            + " changes within 60 s after the load ended");
                }
                Thread.sleep(20);
            }
            writer.check();
            warmup.join();
            Thread.sleep(1_000);
            reader.stop();
            if (reader.count() != writer.written()) {
                throw new IllegalStateException("the read_committed consumer counted " + reader.count() + " records, expected "
                        + writer.written() + ": duplicates");
            }
            return new LatencyMeasurement(reader.latency(), writer.written(), peak, note(child.log()), reader.worstPerSecond(),
                    keptUpAfter.get() / 1e9);
        } finally {
            reader.stop();
            finished();
        }
    }

    /**
     * @param changes        row changes written
     * @param peakRssKib     the candidate process's VmHWM
     * @param worstPerSecond the slowest record of each timed second, ms ({@link ReadCommittedReader#worstPerSecond()})
     * @param timedFromSeconds when the timed part began, seconds after the load started (the warm-up, or later
     *                       when the candidate kept up only then)
     */
    record LatencyMeasurement(Latency latency, long changes, long peakRssKib, String note, String worstPerSecond,
                              double timedFromSeconds) {
    }

    private void checkAlive(Child child, ReadCommittedReader reader, String slot) throws IOException {
        if (!child.isAlive()) {
            throw new IllegalStateException(name() + " died while streaming slot " + slot + ":\n" + tail(child.log()));
        }
        if (reader.failure() != null) {
            throw new IllegalStateException("the read_committed consumer failed", reader.failure());
        }
    }

    /** How many WARN and ERROR lines the process logged: a clean run has none worth reading. */
    static String problemLines(String log) {
        long warn = log.lines().filter(l -> l.contains(" WARN ")).count();
        long error = log.lines().filter(l -> l.contains(" ERROR ")).count();
        return warn + " WARN, " + error + " ERROR lines";
    }

    private static String tail(String log) {
        String[] lines = log.split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 40), lines.length));
    }

    /** One partition, and the broker's append time as every record's timestamp. */
    static void createTopic(Sandbox sandbox, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers()))) {
            admin.createTopics(Set.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("message.timestamp.type", "LogAppendTime"))))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }
}
