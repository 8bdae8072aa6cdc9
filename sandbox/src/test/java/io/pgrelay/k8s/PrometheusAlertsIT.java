package io.pgrelay.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.server.Kafka;
import io.pgrelay.sandbox.server.Ports;
import io.pgrelay.sandbox.server.Prometheus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped alert rules as users run them: a real Prometheus scrapes a real agent's
 * {@code /metrics} and evaluates {@code k8s/monitoring/prometheusrule.yaml}. Kafka is unreachable,
 * so the leader holds the slot but confirms nothing while rows keep coming: the slot lag grows
 * until {@code PgrelaySlotLagHigh} fires in Prometheus' {@code /api/v1/alerts}; then Kafka comes up
 * on that address, the leader catches up, and the alert resolves. The Grafana dashboard's queries
 * then run against the same Prometheus.
 *
 * <p>Why Kafka and not a stopped leader: {@code pgrelay_slot_lag_bytes} is read from
 * {@code pg_replication_slots} by every agent (the slot watcher), so it needs a live agent to report
 * it; a SIGSTOPped leader reports nothing, and its standbys replace it within
 * {@code coordination.hangTimeout} (5 s), too soon for a {@code for:}. A leader that cannot reach
 * Kafka stays up, keeps the slot and reports the lag it cannot work off — the outage the alert is for.
 */
@ExtendWith(SandboxExtension.class)
class PrometheusAlertsIT {

    private static final String ALERT = "PgrelaySlotLagHigh";
    /** Test values for the rule's threshold and {@code for:}, set in the test's copy of the rules only. */
    private static final long TEST_THRESHOLD_BYTES = 512 * 1024;
    private static final String TEST_FOR = "3s";

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void slotLagHighFiresInARealPrometheusWhileKafkaIsDownAndResolvesOnceItIsBack() throws Exception {
        long testStart = System.nanoTime();
        String cluster = "promalerts" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        String table = "public." + cluster + "_t";
        int kafkaPort = Ports.free();
        int agentPort = Ports.free();
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table).bootstrapServers("127.0.0.1:" + kafkaPort);
        String slot = configs.slot();
        sandbox.postgres().execute("CREATE TABLE " + table + " (id bigserial PRIMARY KEY, v text)",
                // The agent creates no slot while Kafka is down (whether the cluster streamed before is
                // recorded there): made by hand, as KafkaOutageIT does; the agent leads on it and waits.
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");

        AtomicBoolean stopWriting = new AtomicBoolean();
        AtomicInteger rowsPerWrite = new AtomicInteger(100);
        CompletableFuture<Void> writes = null;
        Kafka kafka = null;
        try {
            try (AgentProcess agent = AgentProcess.start("agent-1", configs.yaml("agent-1", agentPort));
                 Prometheus prometheus = Prometheus.start(prometheusYml(agentPort), Map.of("rules.yaml", testRules()))) {
                await("slot " + slot + " held by the agent", Duration.ofSeconds(30),
                        () -> "t".equals(query("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")));
                await("Prometheus scraping the agent's slot lag", Duration.ofSeconds(30),
                        () -> !prometheus.query("up{job=\"pgrelay-agent\"} == 1").at("/data/result").isEmpty()
                                && !prometheus.query(lagQuery(cluster)).at("/data/result").isEmpty());
                JsonNode loaded = rule(prometheus, ALERT);
                assertThat(loaded.path("query").asText()).as("the test's " + ALERT + " loaded").endsWith("> " + TEST_THRESHOLD_BYTES);
                assertThat(loaded.path("state").asText()).as(ALERT + " before any write").isEqualTo("inactive");
                assertThat(lagAlert(prometheus, cluster)).isNull();

                // The outage: rows keep coming, nothing reaches Kafka, the slot stays where it is.
                String confirmedBefore = query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
                long writesStart = System.nanoTime();
                writes = CompletableFuture.runAsync(() -> writeUntilStopped(table, rowsPerWrite, stopWriting));
                double pendingAfter = -1;
                JsonNode firing = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
                while (firing == null) {
                    assertThat(System.nanoTime()).as(ALERT + " firing within 45 s; Prometheus log:\n" + prometheus.log()
                            + "\nagent log:\n" + agent.log()).isLessThan(deadline);
                    assertThat(writes.isCompletedExceptionally()).as("writes failed").isFalse();
                    JsonNode alert = lagAlert(prometheus, cluster);
                    if (alert != null && pendingAfter < 0) {
                        pendingAfter = secondsSince(writesStart);
                    }
                    if (alert != null && alert.path("state").asText().equals("firing")) {
                        firing = alert;
                    }
                    Thread.sleep(200);
                }
                double firingAfter = secondsSince(writesStart);
                System.out.printf("PrometheusAlertsIT: %s pending %.1f s and firing %.1f s after the writes began with Kafka down: %s%n",
                        ALERT, pendingAfter, firingAfter, firing);
                assertThat(firing.at("/labels/cluster").asText()).isEqualTo(cluster);
                assertThat(firing.at("/labels/namespace").asText()).isEqualTo("alerts-it");
                assertThat(firing.at("/labels/severity").asText()).isEqualTo("warning");
                assertThat(Double.parseDouble(firing.path("value").asText())).isGreaterThan(TEST_THRESHOLD_BYTES);
                assertThat(firing.at("/annotations/summary").asText()).startsWith("pgrelay slot of " + cluster + " is ").endsWith("B behind");
                assertThat(query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
                        .as("the slot did not move while Kafka was down").isEqualTo(confirmedBefore);
                assertThat(agent.isAlive()).as("the agent waits for Kafka\n" + agent.log()).isTrue();

                // Kafka comes back on the address the agent was given; the writes go on, slower (about
                // 17 kB of WAL a second), so that the lag of a leader keeping up — a few seconds' worth
                // between a commit and the slot watcher's next look — stays well below the test threshold.
                rowsPerWrite.set(10);
                long kafkaBack = System.nanoTime();
                kafka = Kafka.start(kafkaPort);
                double kafkaStartSeconds = secondsSince(kafkaBack);
                await(ALERT + " resolved (gone from /api/v1/alerts, the rule inactive)", Duration.ofSeconds(75),
                        () -> lagAlert(prometheus, cluster) == null && rule(prometheus, ALERT).path("state").asText().equals("inactive"));
                double resolvedAfter = secondsSince(kafkaBack);
                double lagNow = value(prometheus.query(lagQuery(cluster)));
                System.out.printf("PrometheusAlertsIT: %s resolved %.1f s after Kafka came back (its start took %.1f s);"
                        + " slot lag in Prometheus now %.0f bytes (threshold %d)%n", ALERT, resolvedAfter, kafkaStartSeconds, lagNow,
                        TEST_THRESHOLD_BYTES);
                assertThat(lagNow).isLessThan(TEST_THRESHOLD_BYTES);
                // a rate, as the dashboard's panels ask: it needs two scrapes of the counter, not one
                await("the agent's events in Prometheus", Duration.ofSeconds(15),
                        () -> value(prometheus.query("sum(rate(pgrelay_events_total{cluster=\"" + cluster + "\"}[15s]))")) > 0);
                assertThat(query("SELECT confirmed_flush_lsn > '" + confirmedBefore + "' FROM pg_replication_slots WHERE slot_name = '"
                        + slot + "'")).as("the slot moved once Kafka was back").isEqualTo("t");

                for (JsonNode r : rules(prometheus)) {
                    assertThat(r.path("health").asText()).as("Prometheus evaluating " + r.path("name").asText() + ": "
                            + r.path("lastError").asText()).isEqualTo("ok");
                }
                dashboardQueriesRunAndShowTheCluster(prometheus, cluster);
                stopWriting.set(true);
                writes.get(30, TimeUnit.SECONDS);
            }
        } finally {
            stopWriting.set(true);
            if (writes != null) {
                writes.handle((ok, e) -> null).get(30, TimeUnit.SECONDS);
            }
            if (kafka != null) {
                kafka.close();
            }
            dropOnceReleased(slot, table);
        }
        System.out.printf("PrometheusAlertsIT: %.1f s in all%n", secondsSince(testStart));
    }

    /**
     * Every PromQL query of the Grafana dashboard, with Grafana's variables replaced, runs in the
     * same Prometheus; each returns series, except the snapshot panels' (no snapshot ran here —
     * ManifestsIT checks their metrics on an agent that ran one).
     */
    private static void dashboardQueriesRunAndShowTheCluster(Prometheus prometheus, String cluster) throws Exception {
        List<String> empty = new ArrayList<>();
        List<String> queries = ShippedMonitoring.dashboardQueries(ShippedMonitoring.grafanaDashboard());
        assertThat(queries).isNotEmpty();
        for (String query : queries) {
            String promql = query.replace("$cluster", cluster).replace("$__rate_interval", "15s").replace("$__range", "5m");
            JsonNode answer = prometheus.query(promql);
            assertThat(answer.path("status").asText()).as("dashboard query " + promql + ": " + answer).isEqualTo("success");
            if (answer.at("/data/result").isEmpty() && !query.contains("pgrelay_snapshot_")) {
                empty.add(promql);
            }
        }
        System.out.printf("PrometheusAlertsIT: %d dashboard queries ran%n", queries.size());
        assertThat(empty).as("dashboard queries with no series for a live cluster").isEmpty();
    }

    private static String prometheusYml(int agentPort) {
        // namespace: the label the Prometheus Operator puts on every target, which the rules group by
        return "global:\n"
                + "  scrape_interval: 1s\n"
                + "  scrape_timeout: 1s\n"
                + "  evaluation_interval: 1s\n"
                + "rule_files: [rules.yaml]\n"
                + "scrape_configs:\n"
                + "- job_name: pgrelay-agent\n"
                + "  metrics_path: /metrics\n"
                + "  static_configs:\n"
                + "  - targets: ['127.0.0.1:" + agentPort + "']\n"
                + "    labels: {namespace: alerts-it}\n";
    }

    /**
     * The shipped rules, with {@value #ALERT}'s threshold and {@code for:} rewritten to test values
     * (1e9 bytes for 5 minutes would not fit a test); its aggregation stays as shipped.
     */
    private static String testRules() {
        ObjectNode rule = ShippedMonitoring.prometheusRule();
        ObjectNode lag = null;
        for (JsonNode group : rule.at("/spec/groups")) {
            for (JsonNode r : group.path("rules")) {
                if (r.path("alert").asText().equals(ALERT)) {
                    lag = (ObjectNode) r;
                }
            }
        }
        assertThat(lag).as(ALERT + " in k8s/monitoring/prometheusrule.yaml").isNotNull();
        Matcher m = Pattern.compile("(.+?)\\s*>\\s*[0-9.e+*^ ]+").matcher(lag.path("expr").asText().trim());
        assertThat(m.matches()).as(ALERT + "'s expr ends in '> <threshold>': " + lag.path("expr").asText()).isTrue();
        lag.put("expr", m.group(1) + " > " + TEST_THRESHOLD_BYTES);
        lag.put("for", TEST_FOR);
        return ShippedMonitoring.rulesFile(rule);
    }

    private static String lagQuery(String cluster) {
        return "max(pgrelay_slot_lag_bytes{cluster=\"" + cluster + "\"})";
    }

    /** This cluster's {@value #ALERT} in {@code /api/v1/alerts} (pending or firing), or null. */
    private static JsonNode lagAlert(Prometheus prometheus, String cluster) throws Exception {
        for (JsonNode a : prometheus.api("/api/v1/alerts").at("/data/alerts")) {
            if (a.at("/labels/alertname").asText().equals(ALERT) && a.at("/labels/cluster").asText().equals(cluster)) {
                return a;
            }
        }
        return null;
    }

    private static List<JsonNode> rules(Prometheus prometheus) throws Exception {
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode group : prometheus.api("/api/v1/rules").at("/data/groups")) {
            group.path("rules").forEach(rules::add);
        }
        assertThat(rules).as("rules loaded in Prometheus").isNotEmpty();
        return rules;
    }

    private static JsonNode rule(Prometheus prometheus, String name) throws Exception {
        return rules(prometheus).stream().filter(r -> r.path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not loaded in Prometheus"));
    }

    /** The value of a one-sample instant query; NaN when there is none. */
    private static double value(JsonNode answer) {
        JsonNode result = answer.at("/data/result");
        return result.isEmpty() ? Double.NaN : Double.parseDouble(result.get(0).at("/value/1").asText());
    }

    /** {@code rows} rows of 300 bytes every 200 ms: at 100 rows, about 175 kB of WAL a second. */
    private void writeUntilStopped(String table, AtomicInteger rows, AtomicBoolean stop) {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
            while (!stop.get()) {
                s.execute("INSERT INTO " + table + " (v) SELECT repeat('x', 300) FROM generate_series(1, " + rows.get() + ")");
                Thread.sleep(200);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("writing to " + table, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void dropOnceReleased(String slot, String table) throws Exception {
        await("slot " + slot + " released", Duration.ofSeconds(15),
                () -> !"t".equals(query("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")));
        sandbox.postgres().execute("SELECT pg_drop_replication_slot('" + slot + "')", "DROP PUBLICATION IF EXISTS " + slot,
                "DROP TABLE " + table);
    }

    private String query(String sql) {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    private static double secondsSince(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(String what, Duration timeout, Condition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}
