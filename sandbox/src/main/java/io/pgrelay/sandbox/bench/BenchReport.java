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

/**
 * The benchmark's results: a Markdown table (median over repeats; ratio to the faster of the two
 * ceiling readers in the same workload) and a CSV with every single measurement.
 */
final class BenchReport {

    private static final List<String> CEILINGS = List.of("pg_recvlogical", "pgjdbc reader");

    /** One measurement; {@code measurement} is null and {@code failure} says why when the candidate failed. */
    record Row(String workload, String candidate, int repeat, long rows, Candidate.Measurement measurement, String failure) {

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

    String markdownTable() {
        StringBuilder md = new StringBuilder();
        md.append("| workload | candidate | rows/s | × ceiling | start-up s | rows/s once attached | peak RSS |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        Map<String, Map<String, List<Row>>> byWorkload = new LinkedHashMap<>();
        for (Row r : rows) {
            byWorkload.computeIfAbsent(r.workload(), w -> new LinkedHashMap<>()).computeIfAbsent(r.candidate(), c -> new ArrayList<>()).add(r);
        }
        for (var workload : byWorkload.entrySet()) {
            double ceiling = workload.getValue().entrySet().stream()
                    .filter(e -> CEILINGS.contains(e.getKey()) && e.getValue().stream().anyMatch(r -> !r.failed()))
                    .mapToDouble(e -> median(e.getValue())).max().orElse(Double.NaN);
            List<String> names = new ArrayList<>(workload.getValue().keySet());
            names.sort(Comparator.comparingInt(BenchReport::displayOrder));
            for (String candidate : names) {
                List<Row> all = workload.getValue().get(candidate);
                List<Row> runs = all.stream().filter(r -> !r.failed()).toList();
                long failed = all.size() - runs.size();
                if (runs.isEmpty()) {
                    md.append(String.format("| %s | %s | failed: %s | | | | |%n", workload.getKey(), candidate, all.get(0).failure()));
                    continue;
                }
                String failures = failed == 0 ? "" : String.format(" (%d of %d runs failed: %s)", failed, all.size(),
                        all.stream().filter(Row::failed).findFirst().orElseThrow().failure());
                double rate = median(runs);
                long rss = runs.stream().mapToLong(r -> r.measurement().peakRssKib()).max().orElse(-1);
                double attach = median(runs.stream().mapToDouble(r -> r.measurement().attachSeconds()).toArray());
                double streaming = median(runs.stream().mapToDouble(r -> r.rows() / r.measurement().streamingSeconds()).toArray());
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f%s | %.2f | %.1f | %,.0f | %s |%n", workload.getKey(), candidate, rate, failures,
                        rate / ceiling, attach, streaming, rss < 0 ? "n/a (in the bench JVM)" : String.format(Locale.ROOT, "%,d MB", rss / 1024)));
            }
            md.append(String.format("| %s | Debezium 3.6.1 embedded | not yet measured | | | | |%n", workload.getKey()));
        }
        md.append("| steady 5,000 rows/s mixed, end-to-end latency p50/p95/p99/max | pgrelay, Debezium | not yet measured | | | | |\n");
        return md.toString();
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        BenchChart.write(medians(), dir.resolve("latest.png"));
        String md = "# Latest benchmark run\n\n"
                + String.format(Locale.ROOT, "Written by `./scripts/bench` (%,d rows per workload, %d repeat%s, %.0f s in all)."
                        + " Rows/s is the median over repeats, from launching the candidate until every row was delivered"
                        + " and acknowledged; × ceiling is against the faster of pg_recvlogical and the bare pgjdbc reader"
                        + " in the same workload. Start-up is launch until its walsender held the slot (pgrelay: JVM start, Kafka producer and election); \"once attached\" leaves it out. Peak RSS is the process's VmHWM (the largest over repeats).%n%n",
                        rowCount, repeats, repeats == 1 ? "" : "s", totalSeconds)
                + "Machine " + load + ".\n\n"
                + markdownTable() + "\n"
                + "![rows per second](latest.png)\n\n"
                + "Every measurement: [latest.csv](latest.csv).\n";
        Files.writeString(dir.resolve("latest.md"), md);
        StringBuilder csv = new StringBuilder("workload,candidate,repeat,rows,seconds,attach_seconds,rows_per_second,peak_rss_kib,note\n");
        for (Row r : rows) {
            if (r.failed()) {
                csv.append(String.format(Locale.ROOT, "\"%s\",%s,%d,%d,,,,,\"failed: %s\"%n", r.workload(), r.candidate(), r.repeat(),
                        r.rows(), r.failure().replace('"', '\'')));
                continue;
            }
            csv.append(String.format(Locale.ROOT, "\"%s\",%s,%d,%d,%.3f,%.3f,%.0f,%d,\"%s\"%n", r.workload(), r.candidate(), r.repeat(),
                    r.rows(), r.measurement().seconds(), r.measurement().attachSeconds(), r.rowsPerSecond(), r.measurement().peakRssKib(), r.measurement().note()));
        }
        Files.writeString(dir.resolve("latest.csv"), csv);
    }

    /** Median rows/s per workload and candidate, ceilings first. */
    private List<BenchChart.Bar> medians() {
        Map<String, Map<String, List<Row>>> byWorkload = new LinkedHashMap<>();
        for (Row r : rows) {
            byWorkload.computeIfAbsent(r.workload(), w -> new LinkedHashMap<>()).computeIfAbsent(r.candidate(), c -> new ArrayList<>()).add(r);
        }
        List<BenchChart.Bar> bars = new ArrayList<>();
        byWorkload.forEach((workload, byCandidate) -> byCandidate.entrySet().stream()
                .sorted(Comparator.comparingInt(e -> displayOrder(e.getKey())))
                .filter(e -> e.getValue().stream().anyMatch(r -> !r.failed()))
                .forEach(e -> bars.add(new BenchChart.Bar(workload, e.getKey(), median(e.getValue())))));
        return bars;
    }

    private static int displayOrder(String candidate) {
        int i = CEILINGS.indexOf(candidate);
        return i >= 0 ? i : CEILINGS.size();
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
