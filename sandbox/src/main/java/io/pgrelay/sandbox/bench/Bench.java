package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.server.SchemaRegistry;
import io.pgrelay.sandbox.server.Kafka;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./scripts/bench}: on fresh sandbox servers, the bulk workloads drained by the ceiling
 * ({@code pg_recvlogical}, a bare pgjdbc reader), by pgrelay and by Debezium's embedded engine, side
 * by side in one run; then a steady mixed load through pgrelay and Debezium for end-to-end latency.
 *
 * <p>Each workload is written once, after every candidate's slot was created, so each candidate
 * drains the same backlog from its own slot: that times decoding and delivery, not the load
 * generator. The order of the candidates alternates between repeats.
 */
public final class Bench {

    /** The steady load runs this long before its records are timed: JIT, connections, the first transactions. */
    private static final double LATENCY_WARMUP_SECONDS = 5;

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        List<Candidate> candidates = new ArrayList<>();
        if (Files.isExecutable(options.pgRecvLogical)) {
            candidates.add(new PgRecvLogical(options.pgRecvLogical));
        } else {
            System.err.println("bench: " + options.pgRecvLogical + " not found: pg_recvlogical is left out of the ceiling."
                    + " Install it with: apt-get install postgresql-client (or pass --pg-recvlogical PATH)");
        }
        candidates.add(new PgJdbcReader());
        candidates.add(new PgRelayAgent(options.standby));
        // --formats: pgrelay in Debezium's envelope too, in json-schema and, through a registry started here, avro
        SchemaRegistry registry = options.formats ? SchemaRegistry.start() : null;
        if (registry != null) {
            candidates.add(PgRelayAgent.debeziumFormat("json-schema", "benchjs_"));
            candidates.add(PgRelayAgent.debeziumFormat("avro", "benchav_", "schemaRegistry: { url: '" + registry.url() + "' }"));
        }
        if (Files.isRegularFile(options.debeziumJar)) {
            candidates.add(new DebeziumEmbedded(options.debeziumJar));
        } else {
            System.err.println("bench: " + options.debeziumJar + " not found: Debezium is left out."
                    + " Build it with: ./mvnw -q -f sandbox/bench-debezium/pom.xml package (scripts/bench does)");
        }
        // -Dbench.only=pgrelay and -Dbench.workload=BATCHED narrow a run down, e.g. for profiling one candidate.
        String only = System.getProperty("bench.only", "");
        if (!only.isEmpty()) {
            candidates.removeIf(c -> !c.name().startsWith(only));
        }
        String onlyWorkload = System.getProperty("bench.workload", "");

        List<BenchReport.Row> rows = new ArrayList<>();
        long started = System.nanoTime();
        String loadBefore = loadAverage();
        Path cdsDir = Files.createTempDirectory("pgrelay-bench-cds-");
        // Every published figure is against a broker with Kafka's default transaction settings, as users run
        // it; -Dbench.broker=tuned runs the sandbox's tuned broker instead (the tests' one), to be shown labelled.
        Kafka.Tuning tuning = brokerTuning();
        try (Sandbox sandbox = Sandbox.start(tuning)) {
            // -Dbench.warmup=0 skips it
            BrokerWarmup.run(sandbox, Integer.getInteger("bench.warmup", 300_000));
            // -Dbench.cds=false: every JVM candidate starts without a class-data sharing archive
            if (Boolean.parseBoolean(System.getProperty("bench.cds", "true"))) {
                trainCds(sandbox, candidates, cdsDir);
            }
            for (int repeat = 1; repeat <= options.repeats; repeat++) {
                List<Candidate> order = new ArrayList<>(candidates);
                if (repeat % 2 == 0) {
                    java.util.Collections.reverse(order);
                }
                for (Workload workload : Workload.values()) {
                    if (!onlyWorkload.isEmpty() && !workload.name().equals(onlyWorkload)) {
                        continue;
                    }
                    rows.addAll(runWorkload(sandbox, workload, options.rows, repeat, order));
                }
                if (options.latencySeconds > 0 && (onlyWorkload.isEmpty() || onlyWorkload.equals("LATENCY"))) {
                    SteadyLoad load = new SteadyLoad(options.latencyRate, LATENCY_WARMUP_SECONDS + options.latencySeconds);
                    rows.addAll(runLatency(sandbox, load, repeat, order));
                }
            }
        } finally {
            io.pgrelay.sandbox.server.Directories.deleteRecursively(cdsDir);
            if (registry != null) {
                registry.close();
            }
        }
        String load = "load average (1/5/15 min) before: " + loadBefore + ", after: " + loadAverage() + "; broker: "
                + (tuning == Kafka.Tuning.STOCK ? "Kafka's default transaction settings"
                : "the sandbox's tuned transaction settings (add.partitions.to.txn.retry.backoff.ms=5, max 2000), not Kafka's defaults")
                + ("own".equals(System.getProperty("pgrelay.sandbox.brokerJvm"))
                ? ", in its own JVM with kafka-server-start.sh's heap and collector settings" : ", in the benchmark's JVM");
        BenchReport report = new BenchReport(rows, options.rows, options.repeats, (System.nanoTime() - started) / 1e9, load);
        System.out.println();
        System.out.println(report.markdownTable());
        System.out.println(report.latencyTable());
        report.write(options.out);
        System.out.println("written: " + options.out.resolve("latest.md") + ", " + options.out.resolve("latest.csv"));
    }

    static Kafka.Tuning brokerTuning() {
        String broker = System.getProperty("bench.broker", "stock");
        return switch (broker) {
            case "stock" -> Kafka.Tuning.STOCK;
            case "tuned" -> Kafka.Tuning.TUNED;
            default -> throw new IllegalArgumentException("-Dbench.broker=" + broker + ": stock (default) or tuned");
        };
    }

    private static final int CDS_TRAINING_ROWS = 20_000;

    /**
     * One untimed run of each JVM candidate (pgrelay, Debezium) over a small backlog, which writes
     * the class-data sharing archive its measured runs then start with — the same for both, and
     * what docs/deploy.md tells operators to do.
     */
    private static void trainCds(Sandbox sandbox, List<Candidate> candidates, Path dir) throws Exception {
        List<Candidate> jvms = candidates.stream().filter(c -> c instanceof KafkaCandidate).toList();
        if (jvms.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        for (Candidate c : jvms) {
            ((KafkaCandidate) c).trainCds(dir.resolve(c.slotPrefix() + "cds.jsa"));
        }
        runWorkload(sandbox, Workload.BATCHED, CDS_TRAINING_ROWS, 0, jvms);
        for (Candidate c : jvms) {
            if (!((KafkaCandidate) c).cdsTrained()) {
                System.err.println("bench: " + c.name() + "'s training run left no class-data sharing archive; it starts without one");
            }
        }
        System.err.printf("bench: class-data sharing archives written by an untimed training run of %,d rows in %.1f s%n",
                CDS_TRAINING_ROWS, (System.nanoTime() - t0) / 1e9);
    }

    private static List<BenchReport.Row> runWorkload(Sandbox sandbox, Workload workload, long rowCount, int repeat,
                                                     List<Candidate> order) throws Exception {
        String run = workload.tag + repeat;
        String table = "public.bench_" + run + "_t";
        String publication = PgRelayAgent.publication(run);
        sandbox.postgres().execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, version int NOT NULL, payload text)"
                + " WITH (autovacuum_enabled = false)");
        sandbox.postgres().execute("CREATE PUBLICATION " + publication + " FOR TABLE " + table);
        for (Candidate c : order) {
            sandbox.postgres().execute("SELECT pg_create_logical_replication_slot('" + c.slotPrefix() + run + "', 'pgoutput')");
        }
        long t0 = System.nanoTime();
        workload.write(sandbox, table, rowCount);
        long endLsn = currentInsertLsn(sandbox);
        System.err.printf("bench: repeat %d, %s written in %.1f s, end %s%n", repeat, workload.describe(rowCount),
                (System.nanoTime() - t0) / 1e9, Lsns.text(endLsn));
        List<BenchReport.Row> rows = new ArrayList<>();
        try {
            for (Candidate c : order) {
                Backlog backlog = new Backlog(sandbox, table, publication, c.slotPrefix() + run, rowCount, endLsn);
                try {
                    Candidate.Measurement m = c.drain(backlog);
                    System.err.printf("bench: repeat %d, %s, %s: %.1f s, %,.0f rows/s%n", repeat, workload.describe(rowCount),
                            c.name(), m.seconds(), rowCount / m.seconds());
                    rows.add(new BenchReport.Row(workload.describe(rowCount), c.name(), repeat, rowCount, m, null, null));
                } catch (Exception e) {
                    // one candidate failing must not hide the others' numbers: the table says it failed
                    System.err.printf("bench: repeat %d, %s, %s FAILED: %s%n", repeat, workload.describe(rowCount), c.name(), e.getMessage());
                    rows.add(BenchReport.Row.failed(workload.describe(rowCount), c.name(), repeat, rowCount, e));
                }
            }
        } finally {
            for (Candidate c : order) {
                dropSlotOnceReleased(sandbox, c.slotPrefix() + run);
            }
            sandbox.postgres().execute("DROP PUBLICATION " + publication, "DROP TABLE " + table);
        }
        return rows;
    }

    /**
     * The latency workload, candidate after candidate (those that write to Kafka): each gets a fresh
     * slot created just before its own run of the steady load, so it streams live changes, not a backlog.
     */
    private static List<BenchReport.Row> runLatency(Sandbox sandbox, SteadyLoad load, int repeat, List<Candidate> order)
            throws Exception {
        String run = "l" + repeat;
        String table = "public.bench_" + run + "_t";
        String publication = PgRelayAgent.publication(run);
        String workload = load.describe() + ", end-to-end latency";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, version int NOT NULL, payload text)",
                "CREATE PUBLICATION " + publication + " FOR TABLE " + table);
        List<BenchReport.Row> rows = new ArrayList<>();
        try {
            for (Candidate c : order) {
                if (!(c instanceof KafkaCandidate k) || (c instanceof PgRelayAgent p && !p.timesLatency())) {
                    continue;
                }
                String slot = c.slotPrefix() + run;
                // the previous candidate's rows are gone before this slot exists, so it never sees the TRUNCATE
                sandbox.postgres().execute("TRUNCATE " + table,
                        "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
                try {
                    BrokerVerifications before = BrokerVerifications.now();
                    KafkaCandidate.LatencyMeasurement m = k.latency(sandbox, table, publication, slot, load, LATENCY_WARMUP_SECONDS);
                    System.err.printf("bench: repeat %d, %s, %s: to log-append %s ms, to read_committed %s ms (p50/p95/p99/max); %s%n",
                            repeat, workload, c.name(), m.latency().toLogAppend().millis(), m.latency().toConsumer().millis(),
                            BrokerVerifications.now().since(before).describe());
                    System.err.printf("bench: repeat %d, %s: timed from %.1f s after the load began; the slowest record of each timed second, ms: %s%n",
                            repeat, c.name(), m.timedFromSeconds(), m.worstPerSecond());
                    rows.add(new BenchReport.Row(workload, c.name(), repeat, m.changes(),
                            new Candidate.Measurement(load.seconds(), 0, m.peakRssKib(), m.note()), null, m.latency()));
                } catch (Exception e) {
                    System.err.printf("bench: repeat %d, %s, %s FAILED: %s%n", repeat, workload, c.name(), e.getMessage());
                    rows.add(BenchReport.Row.failed(workload, c.name(), repeat, 0, e));
                } finally {
                    dropSlotOnceReleased(sandbox, slot);
                }
            }
        } finally {
            sandbox.postgres().execute("DROP PUBLICATION " + publication, "DROP TABLE " + table);
        }
        return rows;
    }

    /** The machine is shared: the load average says how much of it the run had. */
    private static String loadAverage() throws java.io.IOException {
        String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
        return fields[0] + " " + fields[1] + " " + fields[2];
    }

    static long currentInsertLsn(Sandbox sandbox) throws Exception {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A walsender lets go of its slot a moment after its client left. */
    static void dropSlotOnceReleased(Sandbox sandbox, String slot) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            try {
                sandbox.postgres().execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        + " WHERE slot_name = '" + slot + "'");
                return;
            } catch (IllegalStateException stillActive) {
                Thread.sleep(100);
            }
        }
        System.err.println("bench: slot " + slot + " is still active after 10 s; left behind");
    }

    /** Command-line options. */
    private record Options(int repeats, long rows, Path out, Path pgRecvLogical, boolean standby, Path debeziumJar,
                           int latencySeconds, int latencyRate, boolean formats) {

        static Options parse(String[] args) {
            int repeats = 1;
            long rows = 1_000_000;
            Path out = Path.of("docs/benchmarks");
            Path recv = Path.of(PgRecvLogical.DEFAULT_PATH);
            boolean standby = false;
            boolean formats = false;
            Path debeziumJar = Path.of(DebeziumEmbedded.DEFAULT_JAR);
            int latencySeconds = 60;
            int latencyRate = 5_000;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--repeats" -> repeats = Integer.parseInt(require(args[i], value));
                    case "--rows" -> rows = Long.parseLong(require(args[i], value));
                    case "--out" -> out = Path.of(require(args[i], value));
                    case "--pg-recvlogical" -> recv = Path.of(require(args[i], value));
                    case "--debezium-jar" -> debeziumJar = Path.of(require(args[i], value));
                    case "--latency-seconds" -> latencySeconds = Integer.parseInt(require(args[i], value));
                    case "--latency-rate" -> latencyRate = Integer.parseInt(require(args[i], value));
                    case "--standby" -> {
                        standby = true;
                        i--;
                    }
                    case "--formats" -> {
                        formats = true;
                        i--;
                    }
                    default -> usage("unknown option " + args[i]);
                }
                i++;
            }
            if (repeats < 1 || rows < 1 || latencySeconds < 0 || latencyRate < SteadyLoad.CHANGES_PER_TRANSACTION) {
                usage("--repeats and --rows must be at least 1, --latency-seconds at least 0 (0: no latency workload),"
                        + " --latency-rate at least " + SteadyLoad.CHANGES_PER_TRANSACTION);
            }
            return new Options(repeats, rows, out, recv, standby, debeziumJar, latencySeconds, latencyRate, formats);
        }

        private static String require(String option, String value) {
            if (value == null) {
                usage(option + " needs a value");
            }
            return value;
        }

        private static void usage(String problem) {
            System.err.println("bench: " + problem);
            System.err.println("usage: scripts/bench [--repeats N] [--rows N] [--out DIR] [--pg-recvlogical PATH] [--standby]"
                    + " [--debezium-jar PATH] [--latency-seconds N] [--latency-rate N] [--formats]");
            System.exit(2);
        }
    }
}
