package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./scripts/bench}: on fresh sandbox servers, the bulk workloads drained by the ceiling
 * ({@code pg_recvlogical}, a bare pgjdbc reader) and by pgrelay, side by side in one run.
 *
 * <p>Each workload is written once, after every candidate's slot was created, so each candidate
 * drains the same backlog from its own slot: that times decoding and delivery, not the load
 * generator. The order of the candidates alternates between repeats.
 */
public final class Bench {

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
        // -Dbench.only=pgrelay and -Dbench.workload=BATCHED narrow a run down, e.g. for profiling one candidate.
        String only = System.getProperty("bench.only", "");
        if (!only.isEmpty()) {
            candidates.removeIf(c -> !c.name().startsWith(only));
        }
        String onlyWorkload = System.getProperty("bench.workload", "");

        List<BenchReport.Row> rows = new ArrayList<>();
        long started = System.nanoTime();
        String loadBefore = loadAverage();
        try (Sandbox sandbox = Sandbox.start()) {
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
            }
        }
        String load = "load average (1/5/15 min) before: " + loadBefore + ", after: " + loadAverage();
        BenchReport report = new BenchReport(rows, options.rows, options.repeats, (System.nanoTime() - started) / 1e9, load);
        System.out.println();
        System.out.println(report.markdownTable());
        report.write(options.out);
        System.out.println("written: " + options.out.resolve("latest.md") + ", " + options.out.resolve("latest.csv"));
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
                    rows.add(new BenchReport.Row(workload.describe(rowCount), c.name(), repeat, rowCount, m, null));
                } catch (Exception e) {
                    // one candidate failing must not hide the others' numbers: the table says it failed
                    System.err.printf("bench: repeat %d, %s, %s FAILED: %s%n", repeat, workload.describe(rowCount), c.name(), e.getMessage());
                    rows.add(new BenchReport.Row(workload.describe(rowCount), c.name(), repeat, rowCount, null,
                            e.getMessage().lines().findFirst().orElse(e.toString())));
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

    /** The machine is shared: the load average says how much of it the run had. */
    private static String loadAverage() throws java.io.IOException {
        String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
        return fields[0] + " " + fields[1] + " " + fields[2];
    }

    private static long currentInsertLsn(Sandbox sandbox) throws Exception {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A walsender lets go of its slot a moment after its client left. */
    private static void dropSlotOnceReleased(Sandbox sandbox, String slot) throws InterruptedException {
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
    private record Options(int repeats, long rows, Path out, Path pgRecvLogical, boolean standby) {

        static Options parse(String[] args) {
            int repeats = 1;
            long rows = 1_000_000;
            Path out = Path.of("docs/benchmarks");
            Path recv = Path.of(PgRecvLogical.DEFAULT_PATH);
            boolean standby = false;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--repeats" -> repeats = Integer.parseInt(require(args[i], value));
                    case "--rows" -> rows = Long.parseLong(require(args[i], value));
                    case "--out" -> out = Path.of(require(args[i], value));
                    case "--pg-recvlogical" -> recv = Path.of(require(args[i], value));
                    case "--standby" -> {
                        standby = true;
                        i--;
                    }
                    default -> usage("unknown option " + args[i]);
                }
                i++;
            }
            if (repeats < 1 || rows < 1) {
                usage("--repeats and --rows must be at least 1");
            }
            return new Options(repeats, rows, out, recv, standby);
        }

        private static String require(String option, String value) {
            if (value == null) {
                usage(option + " needs a value");
            }
            return value;
        }

        private static void usage(String problem) {
            System.err.println("bench: " + problem);
            System.err.println("usage: scripts/bench [--repeats N] [--rows N] [--out DIR] [--pg-recvlogical PATH] [--standby]");
            System.exit(2);
        }
    }
}
