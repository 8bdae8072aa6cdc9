package io.pgrelay.sandbox.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The benchmark's results: Markdown tables (median over repeats; ratios to the faster of the two
 * ceiling readers and to Debezium in the same workload) and a CSV with every single measurement.
 */
final class BenchReport {

    private static final List<String> CEILINGS = List.of("pg_recvlogical", "pgjdbc reader");
    private static final String DEBEZIUM = "Debezium 3.6.1 embedded";
    private static final List<String> ORDER = List.of("pg_recvlogical", "pgjdbc reader", "pgrelay", DEBEZIUM);

    /**
     * One measurement; {@code measurement} is null and {@code failure} says why when the candidate
     * failed; {@code latency} is set for the latency workload only.
     */
    record Row(String workload, String candidate, int repeat, long rows, Candidate.Measurement measurement, String failure,
               Latency latency) {

        static Row failed(String workload, String candidate, int repeat, long rows, Exception e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(e.toString());
            return new Row(workload, candidate, repeat, rows, null, why, null);
        }

        boolean failed() {
            return measurement == null;
        }

        double rowsPerSecond() {
            return rows / measurement.seconds();
        }
    }

    private final List<Row> rows;
    private final long rowCount;
    private final int repeats;
    private final double totalSeconds;
    private final String load;

    BenchReport(List<Row> rows, long rowCount, int repeats, double totalSeconds, String load) {
        this.load = load;
        this.rows = rows;
        this.rowCount = rowCount;
        this.repeats = repeats;
        this.totalSeconds = totalSeconds;
    }

    /** Rows by workload, then by candidate in display order. */
    private Map<String, Map<String, List<Row>>> byWorkload(boolean latency) {
        Map<String, Map<String, List<Row>>> byWorkload = new LinkedHashMap<>();
        rows.stream().filter(r -> r.workload().endsWith("latency") == latency)
                .sorted(Comparator.comparingInt(r -> displayOrder(r.candidate())))
                .forEach(r -> byWorkload.computeIfAbsent(r.workload(), w -> new LinkedHashMap<>())
                        .computeIfAbsent(r.candidate(), c -> new ArrayList<>()).add(r));
        return byWorkload;
    }

    String markdownTable() {
        StringBuilder md = new StringBuilder();
        md.append("| workload | candidate | rows/s | × ceiling | × Debezium | start-up s | rows/s once attached | CPU s (JIT) | peak RSS |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (var workload : byWorkload(false).entrySet()) {
            double ceiling = workload.getValue().entrySet().stream()
                    .filter(e -> CEILINGS.contains(e.getKey()) && e.getValue().stream().anyMatch(r -> !r.failed()))
                    .mapToDouble(e -> median(e.getValue())).max().orElse(Double.NaN);
            List<Row> debezium = workload.getValue().getOrDefault(DEBEZIUM, List.of());
            double dbz = debezium.stream().anyMatch(r -> !r.failed()) ? median(debezium) : Double.NaN;
            for (var candidate : workload.getValue().entrySet()) {
                List<Row> all = candidate.getValue();
                List<Row> runs = all.stream().filter(r -> !r.failed()).toList();
                if (runs.isEmpty()) {
                    md.append(String.format("| %s | %s | failed: %s | | | | | | |%n", workload.getKey(), candidate.getKey(), all.get(0).failure()));
                    continue;
                }
                double rate = median(runs);
                double attach = median(runs.stream().mapToDouble(r -> r.measurement().attachSeconds()).toArray());
                double streaming = median(runs.stream().mapToDouble(r -> r.rows() / r.measurement().streamingSeconds()).toArray());
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f%s | %.2f | %s | %.1f | %,.0f | %s | %s |%n", workload.getKey(),
                        candidate.getKey(), rate, failures(all), rate / ceiling, ratio(rate / dbz), attach, streaming, cpu(runs), rss(runs)));
            }
        }
        return md.toString();
    }

    /** The latency workload: p50/p95/p99/max in ms, medians over repeats (max: the largest). */
    String latencyTable() {
        StringBuilder md = new StringBuilder();
        md.append("| workload | candidate | changes | commit → log-append, ms p50 / p95 / p99 / max | commit → read_committed consumer,"
                + " ms p50 / p95 / p99 / max | p99 × Debezium | peak RSS |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (var workload : byWorkload(true).entrySet()) {
            List<Row> debezium = workload.getValue().getOrDefault(DEBEZIUM, List.of()).stream().filter(r -> !r.failed()).toList();
            double dbzP99 = debezium.isEmpty() ? Double.NaN : medianOf(debezium, r -> r.latency().toConsumer().p99());
            for (var candidate : workload.getValue().entrySet()) {
                List<Row> all = candidate.getValue();
                List<Row> runs = all.stream().filter(r -> !r.failed()).toList();
                if (runs.isEmpty()) {
                    md.append(String.format("| %s | %s | failed: %s | | | | |%n", workload.getKey(), candidate.getKey(), all.get(0).failure()));
                    continue;
                }
                Latency.Percentiles append = percentiles(runs, Latency::toLogAppend);
                Latency.Percentiles consumer = percentiles(runs, Latency::toConsumer);
                md.append(String.format(Locale.ROOT, "| %s | %s | %,d%s | %s | %s | %s | %s |%n", workload.getKey(), candidate.getKey(),
                        runs.get(0).rows(), failures(all), append.millis(), consumer.millis(), ratio(consumer.p99() / dbzP99), rss(runs)));
            }
        }
        return md.toString();
    }

    private static Latency.Percentiles percentiles(List<Row> runs, java.util.function.Function<Latency, Latency.Percentiles> which) {
        return new Latency.Percentiles(
                (long) medianOf(runs, r -> which.apply(r.latency()).p50()),
                (long) medianOf(runs, r -> which.apply(r.latency()).p95()),
                (long) medianOf(runs, r -> which.apply(r.latency()).p99()),
                runs.stream().mapToLong(r -> which.apply(r.latency()).max()).max().orElse(0));
    }

    private static double medianOf(List<Row> runs, ToLongFunction<Row> value) {
        return median(runs.stream().mapToDouble(r -> value.applyAsLong(r)).toArray());
    }

    private static String failures(List<Row> all) {
        long failed = all.stream().filter(Row::failed).count();
        return failed == 0 ? "" : String.format(" (%d of %d runs failed: %s)", failed, all.size(),
                all.stream().filter(Row::failed).findFirst().orElseThrow().failure());
    }

    private static String ratio(double r) {
        return Double.isNaN(r) || Double.isInfinite(r) ? "" : String.format(Locale.ROOT, "%.2f", r);
    }

    private static String rss(List<Row> runs) {
        long rss = runs.stream().mapToLong(r -> r.measurement().peakRssKib()).max().orElse(-1);
        return rss < 0 ? "n/a (in the bench JVM)" : String.format(Locale.ROOT, "%,d MB", rss / 1024);
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        BenchChart.write(medians(), latencies(), dir.resolve("latest.png"));
        String md = "# Latest benchmark run\n\n"
                + String.format(Locale.ROOT, "Written by `./scripts/bench` (%,d rows per workload, %d repeat%s, %.0f s in all)."
                        + " Rows/s is the median over repeats, from launching the candidate until every row was delivered"
                        + " and acknowledged; × ceiling is against the faster of pg_recvlogical and the bare pgjdbc reader"
                        + " in the same workload, × Debezium against Debezium's embedded engine. Start-up is launch until its"
                        + " walsender held the slot (pgrelay: JVM start, Kafka producer and election); \"once attached\" leaves it out."
                        + " CPU s is the candidate process's CPU time (user + system, launch to done) and, in brackets, what"
                        + " its JIT compiler threads used of it (a JVM's cost of warming up). JVM candidates start from a"
                        + " class-data sharing archive written by an untimed training run (BENCHMARKS.md)."
                        + " Peak RSS is the process's VmHWM (the largest over repeats).%n%n",
                        rowCount, repeats, repeats == 1 ? "" : "s", totalSeconds)
                + "Machine " + load + ".\n\n"
                + markdownTable() + "\n"
                + "Latency: from the PostgreSQL commit time carried by each record (pgrelay `committedAt`, Debezium"
                + " `source.ts_us`) to the broker's log-append time (milliseconds) and to the moment a `read_committed`"
                + " consumer received it; records committed in the first 5 s (warm-up), or until the candidate keeps up (a"
                + " record delivered within 1 s of its commit; the bench's log says when), are not timed.\n\n"
                + latencyTable() + "\n"
                + "![rows per second and latency](latest.png)\n\n"
                + "Every measurement: [latest.csv](latest.csv).\n";
        Files.writeString(dir.resolve("latest.md"), md);
        StringBuilder csv = new StringBuilder("workload,candidate,repeat,rows,seconds,attach_seconds,rows_per_second,peak_rss_kib,cpu_seconds,jit_cpu_seconds,"
                + "append_p50_us,append_p95_us,append_p99_us,append_max_us,consumer_p50_us,consumer_p95_us,consumer_p99_us,consumer_max_us,note\n");
        for (Row r : rows) {
            if (r.failed()) {
                csv.append(String.format(Locale.ROOT, "\"%s\",%s,%d,%d,,,,,,,,,,,,,,,\"failed: %s\"%n", r.workload(), r.candidate(), r.repeat(),
                        r.rows(), r.failure().replace('"', '\'')));
                continue;
            }
            Latency l = r.latency();
            String latency = l == null ? ",,,,,,," : String.format(Locale.ROOT, "%d,%d,%d,%d,%d,%d,%d,%d",
                    l.toLogAppend().p50(), l.toLogAppend().p95(), l.toLogAppend().p99(), l.toLogAppend().max(),
                    l.toConsumer().p50(), l.toConsumer().p95(), l.toConsumer().p99(), l.toConsumer().max());
            ProcessCpu cpu = r.measurement().cpu();
            String cpuColumns = cpu == null ? "," : String.format(Locale.ROOT, "%.2f,%.2f", cpu.seconds(), cpu.jitSeconds());
            csv.append(String.format(Locale.ROOT, "\"%s\",%s,%d,%d,%.3f,%.3f,%.0f,%d,%s,%s,\"%s\"%n", r.workload(), r.candidate(), r.repeat(),
                    r.rows(), r.measurement().seconds(), r.measurement().attachSeconds(), r.rowsPerSecond(), r.measurement().peakRssKib(),
                    cpuColumns, latency, r.measurement().note()));
        }
        Files.writeString(dir.resolve("latest.csv"), csv);
    }

    /** Median rows/s per workload and candidate, ceilings first. */
    private List<BenchChart.Bar> medians() {
        List<BenchChart.Bar> bars = new ArrayList<>();
        byWorkload(false).forEach((workload, byCandidate) -> byCandidate.entrySet().stream()
                .filter(e -> e.getValue().stream().anyMatch(r -> !r.failed()))
                .forEach(e -> bars.add(new BenchChart.Bar(workload, e.getKey(), median(e.getValue())))));
        return bars;
    }

    /** Median CPU seconds of the process and of its JIT compiler threads, or n/a (not measured). */
    private static String cpu(List<Row> runs) {
        List<ProcessCpu> measured = runs.stream().map(r -> r.measurement().cpu()).filter(java.util.Objects::nonNull).toList();
        if (measured.isEmpty()) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.1f (%.1f)", median(measured.stream().mapToDouble(ProcessCpu::seconds).toArray()),
                median(measured.stream().mapToDouble(ProcessCpu::jitSeconds).toArray()));
    }

    /** Median latency percentiles to the read_committed consumer, per candidate. */
    private List<BenchChart.LatencyBars> latencies() {
        List<BenchChart.LatencyBars> bars = new ArrayList<>();
        byWorkload(true).forEach((workload, byCandidate) -> byCandidate.forEach((candidate, all) -> {
            List<Row> runs = all.stream().filter(r -> !r.failed()).toList();
            if (!runs.isEmpty()) {
                bars.add(new BenchChart.LatencyBars(candidate, percentiles(runs, Latency::toConsumer)));
            }
        }));
        return bars;
    }

    private static int displayOrder(String candidate) {
        int i = ORDER.indexOf(candidate);
        return i >= 0 ? i : ORDER.size();
    }

    private static double median(List<Row> runs) {
        return median(runs.stream().filter(r -> !r.failed()).mapToDouble(Row::rowsPerSecond).toArray());
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
