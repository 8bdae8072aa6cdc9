package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentProcess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The takeover catch-up workload ({@code scripts/bench --takeover}): a steady load streams through a
 * leader agent while a standby that never led stands by; the leader is SIGKILLed after
 * {@code --before-kill} seconds and the standby takes over. A {@code read_committed} consumer keeps
 * every record's PostgreSQL commit time, log-append time, arrival and epoch, from which come:
 * <ul>
 *   <li>takeover: the SIGKILL until the new term's first record reaches the consumer;</li>
 *   <li>backlog: the new term's records committed in PostgreSQL before its first record was appended
 *       (what nobody streamed while the cluster had no leader), and the oldest one's age;</li>
 *   <li>back under 100 ms: the SIGKILL until every later record's commit → consumer latency is under 100 ms;</li>
 *   <li>drain: the backlog's rows over the time from the new term's first record to the backlog's last,
 *       and that rate against the ceiling: {@code pg_recvlogical} decoding the very same WAL from a slot
 *       created beside the agents'.</li>
 * </ul>
 * Nothing here is tuned for pgrelay: default agent settings, the sandbox broker, the new leader's
 * JVM as it stood by.
 */
public final class TakeoverCatchUp {

    private static final long BACK_UNDER_MICROS = 100_000;

    private TakeoverCatchUp() {
    }

    /** One record as the consumer saw it. */
    private record Seen(long commitMicros, long appendMicros, long receivedMicros, long epoch) {
    }

    /** One repeat's figures. */
    record Result(int repeat, double takeoverSeconds, long backlogRows, double backlogOldestSeconds,
                  double backUnderSeconds, double drainRowsPerSecond, double ceilingRowsPerSecond,
                  ProcessCpu standbyBefore, ProcessCpu newLeaderAfter5s, long newLeaderPeakRssMib, long rows, String note) {

        String markdownRow() {
            return String.format(Locale.ROOT, "| %d | %.2f s | %,d rows (%.2f s) | %.2f s | %,.0f rows/s | %,.0f rows/s | %.2f × | %.1f (%.1f) → %.1f (%.1f) | %d MB | %,d |",
                    repeat, takeoverSeconds, backlogRows, backlogOldestSeconds, backUnderSeconds, drainRowsPerSecond,
                    ceilingRowsPerSecond, drainRowsPerSecond / ceilingRowsPerSecond, standbyBefore.seconds(), standbyBefore.jitSeconds(),
                    newLeaderAfter5s.seconds(), newLeaderAfter5s.jitSeconds(), newLeaderPeakRssMib, rows);
        }
    }

    public static void main(String[] args) throws Exception {
        int repeats = 2;
        int rate = 5_000;
        int beforeKill = 30;
        int after = 15;
        Path recvLogical = Path.of(PgRecvLogical.DEFAULT_PATH);
        List<String> agentJvm = new ArrayList<>(KafkaCandidate.JVM_ARGS);
        Path out = null;
        List<String> agentLines = new ArrayList<>();
        boolean warmUp = false;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--repeats" -> repeats = Integer.parseInt(require(args[i], value));
                case "--rate" -> rate = Integer.parseInt(require(args[i], value));
                case "--before-kill" -> beforeKill = Integer.parseInt(require(args[i], value));
                case "--after" -> after = Integer.parseInt(require(args[i], value));
                case "--pg-recvlogical" -> recvLogical = Path.of(require(args[i], value));
                case "--agent-jvm" -> agentJvm.addAll(List.of(require(args[i], value).trim().split("\\s+")));
                case "--out" -> out = Path.of(require(args[i], value));
                case "--agent" -> agentLines.add(require(args[i], value));
                case "--warm-up" -> {
                    warmUp = true;
                    i--;
                }
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        if (repeats < 1 || beforeKill < 5 || after < 5 || rate < SteadyLoad.CHANGES_PER_TRANSACTION) {
            usage("--repeats ≥ 1, --before-kill and --after ≥ 5 seconds, --rate ≥ " + SteadyLoad.CHANGES_PER_TRANSACTION);
        }
        if (!Files.isExecutable(recvLogical)) {
            usage(recvLogical + " not found: the drain is measured against pg_recvlogical (apt-get install postgresql-client)");
        }
        List<Result> results = new ArrayList<>();
        // the broker as users run it (Kafka's default transaction settings) unless -Dbench.broker=tuned, as ./scripts/bench
        try (Sandbox sandbox = Sandbox.start(Bench.brokerTuning())) {
            BrokerWarmup.run(sandbox, Integer.getInteger("bench.warmup", 300_000));
            for (int repeat = 1; repeat <= repeats; repeat++) {
                results.add(runOnce(sandbox, repeat, rate, beforeKill, after, recvLogical, agentJvm, agentLines, warmUp));
                System.err.println("takeover: " + results.get(results.size() - 1).markdownRow());
            }
        }
        String table = String.format(Locale.ROOT, "Takeover catch-up (broker: " + System.getProperty("bench.broker", "stock") + "): steady %,d rows/s, leader SIGKILLed after %d s, %d s more;"
                + " agent settings %s; agent JVM %s (%s)%n%n", rate, beforeKill, after,
                (warmUp ? "warmUp: true" : "warmUp: false") + (agentLines.isEmpty() ? "" : ", " + String.join(", ", agentLines)), String.join(" ", agentJvm), System.getProperty("pgrelay.agentJava",
                ProcessHandle.current().info().command().orElse("java")))
                + "| repeat | SIGKILL → new term's first record | backlog found (oldest) | back under 100 ms after | drain rate"
                + " | ceiling (pg_recvlogical, same WAL) | drain × ceiling | standby CPU s (JIT) before → new leader's 5 s after | new leader's peak RSS | rows |\n"
                + "|---|---|---|---|---|---|---|---|---|---|\n"
                + String.join("\n", results.stream().map(Result::markdownRow).toList()) + "\n";
        System.out.println();
        System.out.println(table);
        results.forEach(r -> System.out.println("repeat " + r.repeat() + ": " + r.note()));
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("takeover.md"), table);
        }
    }

    private static Result runOnce(Sandbox sandbox, int repeat, int rate, int beforeKill, int after, Path recvLogical,
                                  List<String> agentJvm, List<String> agentLines, boolean warmUp) throws Exception {
        String run = "k" + repeat;
        String cluster = PgRelayAgent.cluster(run);
        String table = "public.bench_" + run + "_t";
        String publication = PgRelayAgent.publication(run);
        String slot = "pgrelay_" + cluster;
        String ceilingSlot = "pgrecv_bench_" + run;
        String topic = cluster + "." + table;
        sandbox.postgres().execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, version int NOT NULL, payload text)",
                "CREATE PUBLICATION " + publication + " FOR TABLE " + table,
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')",
                "SELECT pg_create_logical_replication_slot('" + ceilingSlot + "', 'pgoutput')");
        KafkaCandidate.createTopic(sandbox, topic);
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table).warmUp(warmUp);
        agentLines.forEach(configs::agent);
        String[] jvm = agentJvm.toArray(String[]::new);
        Consumer consumer = new Consumer(sandbox.kafka().bootstrapServers(), topic);
        try (SlotPositions slots = new SlotPositions(sandbox);
             AgentProcess first = AgentProcess.start("bench-1", configs.yaml("bench-1", PgRelayAgent.freePort()), jvm)) {
            awaitTrue(() -> slots.active(slot), 60, "agent bench-1 to take slot " + slot);
            int standbyPort = PgRelayAgent.freePort();
            try (AgentProcess standby = AgentProcess.start("bench-2", configs.yaml("bench-2", standbyPort), jvm)) {
                String standbyUrl = "http://127.0.0.1:" + standbyPort;
                awaitTrue(() -> AgentHttp.get(standbyUrl, "/ready").status() == 200, 60, "standby bench-2 to be ready");
                consumer.start();
                SteadyLoad.Run load = new SteadyLoad(rate, beforeKill + after).start(sandbox, table);
                Thread.sleep(beforeKill * 1000L);
                ProcessCpu standbyBefore = ProcessCpu.of(standby.pid());
                long killedMicros = ReadCommittedReader.nowMicros();
                first.kill();
                Thread.sleep(5_000);
                ProcessCpu standbyAfter = ProcessCpu.of(standby.pid());
                long written = load.await();
                long endLsn = Bench.currentInsertLsn(sandbox);
                awaitTrue(() -> consumer.rows() >= written || consumer.failure != null, 60,
                        "the consumer to hold all " + written + " changes");
                Thread.sleep(1_000);
                consumer.stop();
                if (consumer.failure != null) {
                    throw new IllegalStateException("the read_committed consumer failed", consumer.failure);
                }
                if (consumer.rows() != written) {
                    throw new IllegalStateException("the consumer holds " + consumer.rows() + " changes, " + written + " were written");
                }
                Candidate.Measurement ceiling = new PgRecvLogical(recvLogical).drain(
                        new Backlog(sandbox, table, publication, ceilingSlot, written, endLsn));
                double ceilingRate = written / ceiling.seconds();
                long newLeaderRssMib = ProcessMemory.peakRssKib(standby.pid()) / 1024;
                ProcessCpu newLeader = new ProcessCpu(standbyAfter.seconds() - standbyBefore.seconds(),
                        standbyAfter.jitSeconds() - standbyBefore.jitSeconds());
                return analyse(repeat, consumer.seen, killedMicros, ceilingRate, standbyBefore, newLeader, newLeaderRssMib,
                        "new leader log: " + KafkaCandidate.problemLines(standby.log()) + "; " + standby.log().lines()
                                .filter(l -> l.contains("standby warm-up") || l.contains("streaming as leader"))
                                .map(l -> l.substring(Math.max(0, l.indexOf(" - ") + 3))).collect(java.util.stream.Collectors.joining("; ")));
            }
        } finally {
            consumer.stop();
            Bench.dropSlotOnceReleased(sandbox, slot);
            Bench.dropSlotOnceReleased(sandbox, ceilingSlot);
            sandbox.postgres().execute("DROP PUBLICATION " + publication, "DROP TABLE " + table);
        }
    }

    static Result analyse(int repeat, List<Seen> seen, long killedMicros, double ceilingRate, ProcessCpu standbyBefore,
                          ProcessCpu newLeader, long newLeaderPeakRssMib, String note) {
        long oldEpoch = seen.stream().filter(s -> s.receivedMicros() < killedMicros).mapToLong(Seen::epoch).max()
                .orElseThrow(() -> new IllegalStateException("no record arrived before the SIGKILL"));
        Seen firstNew = seen.stream().filter(s -> s.epoch() > oldEpoch).findFirst()
                .orElseThrow(() -> new IllegalStateException("no record of a new term arrived after the SIGKILL"));
        List<Seen> backlog = seen.stream().filter(s -> s.epoch() > oldEpoch && s.commitMicros() <= firstNew.appendMicros()).toList();
        long oldest = backlog.stream().mapToLong(Seen::commitMicros).min().orElse(firstNew.appendMicros());
        long lastBacklog = backlog.stream().mapToLong(Seen::receivedMicros).max().orElse(firstNew.receivedMicros());
        long lastSlow = seen.stream().filter(s -> s.receivedMicros() - s.commitMicros() >= BACK_UNDER_MICROS)
                .mapToLong(Seen::receivedMicros).max().orElse(killedMicros);
        double drainSeconds = Math.max(lastBacklog - firstNew.receivedMicros(), 1_000) / 1e6;   // a drain under 1 ms is read as 1 ms
        // where "back under 100 ms" comes from: the slowest record's latency in each second after the SIGKILL
        long[] slowest = new long[20];
        for (Seen s : seen) {
            long second = (s.receivedMicros() - killedMicros) / 1_000_000;
            if (s.receivedMicros() >= killedMicros && second < slowest.length) {
                slowest[(int) second] = Math.max(slowest[(int) second], s.receivedMicros() - s.commitMicros());
            }
        }
        note = note + "; slowest commit → consumer ms in each second after the SIGKILL: "
                + java.util.Arrays.stream(slowest).mapToObj(us -> Long.toString(us / 1000)).collect(java.util.stream.Collectors.joining(" "));
        return new Result(repeat, (firstNew.receivedMicros() - killedMicros) / 1e6, backlog.size(),
                (firstNew.appendMicros() - oldest) / 1e6, Math.max(0, lastSlow - killedMicros) / 1e6,
                backlog.size() / drainSeconds, ceilingRate, standbyBefore, newLeader, newLeaderPeakRssMib, seen.size(), note);
    }

    /** A read_committed consumer of the topic that keeps every change record's times and epoch. */
    private static final class Consumer implements Runnable {
        private final String bootstrap;
        private final String topic;
        private final List<Seen> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        private volatile boolean stop;
        private volatile Exception failure;
        private Thread thread;

        Consumer(String bootstrap, String topic) {
            this.bootstrap = bootstrap;
            this.topic = topic;
        }

        void start() {
            thread = new Thread(this, "bench-takeover-reader");
            thread.start();
        }

        long rows() {
            return seen.size();
        }

        void stop() throws InterruptedException {
            stop = true;
            if (thread != null) {
                thread.join(10_000);
            }
        }

        @Override
        public void run() {
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000",
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                TopicPartition partition = new TopicPartition(topic, 0);
                consumer.assign(List.of(partition));
                consumer.seekToBeginning(List.of(partition));
                while (!stop) {
                    var records = consumer.poll(Duration.ofMillis(100));
                    long received = ReadCommittedReader.nowMicros();
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        if (r.value() == null) {
                            continue;
                        }
                        java.time.Instant at = java.time.Instant.parse(json.readTree(r.value()).get("committedAt").asText());
                        Header epoch = r.headers().lastHeader("pgrelay.epoch");
                        seen.add(new Seen(at.getEpochSecond() * 1_000_000 + at.getNano() / 1000, r.timestamp() * 1000, received,
                                epoch == null ? -1 : Long.parseLong(new String(epoch.value(), StandardCharsets.UTF_8))));
                    }
                }
            } catch (Exception e) {
                failure = e;
            }
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Check check, int seconds, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                if (check.holds()) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // an agent's HTTP port is not open yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waited " + seconds + " s for " + what);
            }
            Thread.sleep(20);
        }
    }



    private static String require(String option, String value) {
        if (value == null) {
            usage(option + " needs a value");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("takeover: " + problem);
        System.err.println("usage: TakeoverCatchUp [--repeats N] [--rate ROWS_PER_S] [--before-kill S] [--after S]"
                + " [--pg-recvlogical PATH] [--warm-up] [--agent-jvm \"JVM ARGS\"] [--agent \"KEY: VALUE\" (under agent:)]… [--out DIR]");
        System.exit(2);
    }
}
