package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.hawkular.agent.prometheus.text.TextPrometheusMetricDataParser;
import org.hawkular.agent.prometheus.types.Counter;
import org.hawkular.agent.prometheus.types.Gauge;
import org.hawkular.agent.prometheus.types.Histogram;
import org.hawkular.agent.prometheus.types.Metric;
import org.hawkular.agent.prometheus.types.MetricFamily;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Operating the agents: the HTTP API as a client sees it, the metrics as Prometheus parses them,
 * slot-lag alerts while no agent can stream (in {@code /status}, the metric and a real webhook
 * receiver), and the heartbeat that keeps an idle slot from retaining WAL.
 */
@ExtendWith(SandboxExtension.class)
class OpsIT {

    private static final String PASSWORD = "pw-Secret-7c1e";
    private static final String TOKEN = "tok-Secret-93ab";
    private static final List<String> DESIGN_METRICS = List.of("pgrelay_leader", "pgrelay_slot_lag_bytes",
            "pgrelay_replication_lag_seconds", "pgrelay_wal_retained_bytes", "pgrelay_slot_active", "pgrelay_events_total",
            "pgrelay_transactions_total", "pgrelay_leadership_changes_total", "pgrelay_kafka_send_seconds",
            "pgrelay_end_to_end_latency_seconds", "pgrelay_skipped_total", "pgrelay_alert");

    private final Sandbox sandbox = Sandbox.shared();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        cleanup.add(c);
        return c;
    }

    @Test
    void httpApiKeepsSecretsAndMetricsParseAndMove() throws Exception {
        String cluster = ItSupport.uniqueCluster("api");
        String table = "public." + cluster + "_t";
        String role = cluster + "_agent";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)",
                "CREATE ROLE " + role + " LOGIN SUPERUSER REPLICATION PASSWORD '" + PASSWORD + "'");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table).adminToken(TOKEN)
                .login("postgres", role, PASSWORD).producer("ssl.key.password", PASSWORD);
        int port = ItSupport.freePort();
        AgentProcess agent = closeLater(AgentProcess.start("agent-1", configs.yaml("agent-1", port)));
        cleanup.add(() -> ItSupport.dropSlotAndPublication(sandbox, configs.slot()));
        String base = "http://127.0.0.1:" + port;
        ItSupport.await("agent leads", Duration.ofSeconds(60), () -> role(port).equals("leader"));
        ItSupport.await("agent streams (/ready 200)", Duration.ofSeconds(30), () -> statusCode(base + "/ready") == 200);

        Map<String, List<Metric>> before = scrape(base);
        assertThat(before.keySet()).as("every DESIGN.md metric but the per-table counters, which appear with a table's first event")
                .containsAll(DESIGN_METRICS.stream().filter(n -> !n.equals("pgrelay_events_total")).toList());
        assertThat(value(before, "pgrelay_leader", Map.of())).isEqualTo(1.0);
        assertThat(value(before, "pgrelay_leadership_changes_total", Map.of())).isGreaterThanOrEqualTo(1.0);
        assertThat(value(before, "pgrelay_alert", Map.of("name", "slot_lag_bytes", "severity", "warning"))).isZero();
        assertThat(get(base + "/metrics").body()).contains("pgrelay_kafka_send_seconds_bucket{", "pgrelay_end_to_end_latency_seconds_bucket{");

        for (int i = 0; i < 10; i++) {
            sandbox.postgres().execute("INSERT INTO " + table + " VALUES (" + i + ", 'x')");
        }
        ItSupport.await("10 insert events counted", Duration.ofSeconds(30),
                () -> {
                    Map<String, List<Metric>> m = scrape(base);
                    return m.containsKey("pgrelay_events_total")
                            && value(m, "pgrelay_events_total", Map.of("table", table, "op", "insert")) >= 10;
                });
        // events are counted when sent, latency when their Kafka transaction commits: wait for that too
        ItSupport.await("10 end-to-end samples", Duration.ofSeconds(30),
                () -> ((Histogram) scrape(base).get("pgrelay_end_to_end_latency_seconds").get(0)).getSampleCount() >= 10);
        Map<String, List<Metric>> after = scrape(base);
        assertThat(after.keySet()).as("every DESIGN.md metric is exposed").containsAll(DESIGN_METRICS);
        assertThat(value(after, "pgrelay_transactions_total", Map.of()))
                .isGreaterThanOrEqualTo(value(before, "pgrelay_transactions_total", Map.of()) + 10);
        Histogram e2e = (Histogram) after.get("pgrelay_end_to_end_latency_seconds").get(0);
        assertThat(e2e.getSampleCount()).as("one end-to-end sample per PostgreSQL transaction").isGreaterThanOrEqualTo(10);
        assertThat(e2e.getBuckets()).isNotEmpty();
        Histogram send = (Histogram) after.get("pgrelay_kafka_send_seconds").get(0);
        assertThat(send.getSampleCount()).isGreaterThan(0);
        assertThat(send.getSampleSum()).isGreaterThan(0);

        JsonNode status = ItSupport.json(get(base + "/status").body());
        for (String field : List.of("agent", "cluster", "role", "leader", "epoch", "mode", "slot", "lag", "positions", "alerts",
                "version", "uptimeSeconds")) {
            assertThat(status.has(field)).as("/status has " + field).isTrue();
        }
        for (String field : List.of("name", "active", "activePid", "confirmedFlushLsn", "restartLsn", "walStatus")) {
            assertThat(status.get("slot").has(field)).as("/status.slot has " + field).isTrue();
        }
        assertThat(status.get("role").asText()).isEqualTo("leader");
        assertThat(status.get("alerts").isArray()).isTrue();

        // Every route, good requests and bad: never the password or the token, never a stack trace.
        List<HttpResponse<String>> responses = new ArrayList<>();
        for (String path : List.of("/health", "/ready", "/status", "/stats", "/metrics", "/nope")) {
            responses.add(get(base + path));
        }
        HttpResponse<String> wrongMethod = send("DELETE", base + "/status", null, null);
        HttpResponse<String> wrongMethodAdmin = send("GET", base + "/admin/log-level", null, TOKEN);
        HttpResponse<String> malformed = send("POST", base + "/admin/log-level", "{\"level\":", TOKEN);
        HttpResponse<String> malformedHandover = send("POST", base + "/admin/handover", "{to:", TOKEN);
        HttpResponse<String> unknownLevel = send("POST", base + "/admin/log-level", "{\"level\":\"loud\"}", TOKEN);
        HttpResponse<String> noToken = send("POST", base + "/admin/log-level", "{\"level\":\"debug\"}", null);
        HttpResponse<String> badToken = send("POST", base + "/admin/log-level", "{\"level\":\"debug\"}", "wrong");
        HttpResponse<String> debug = send("POST", base + "/admin/log-level", "{\"logger\":\"io.pgrelay\",\"level\":\"debug\"}", TOKEN);
        HttpResponse<String> info = send("POST", base + "/admin/log-level", "{\"level\":\"info\"}", TOKEN);
        responses.addAll(List.of(wrongMethod, wrongMethodAdmin, malformed, malformedHandover, unknownLevel, noToken, badToken, debug, info));

        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET");
        assertThat(wrongMethodAdmin.statusCode()).isEqualTo(405);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformedHandover.statusCode()).isEqualTo(400);
        assertThat(unknownLevel.statusCode()).isEqualTo(400);
        assertThat(unknownLevel.body()).contains("unknown level 'loud'");
        assertThat(noToken.statusCode()).isEqualTo(401);
        assertThat(noToken.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(badToken.statusCode()).isEqualTo(401);
        assertThat(debug.statusCode()).as(debug.body()).isEqualTo(200);
        assertThat(ItSupport.json(debug.body()).get("level").asText()).isEqualTo("DEBUG");
        assertThat(info.statusCode()).isEqualTo(200);
        for (HttpResponse<?> r : List.of(wrongMethod, wrongMethodAdmin, malformed, malformedHandover, unknownLevel, noToken, badToken)) {
            assertThat(ItSupport.json((String) r.body()).get("error").asText()).as(r.request().uri().toString()).isNotBlank();
        }
        for (HttpResponse<String> r : responses) {
            assertThat(r.body()).as(r.request().method() + " " + r.request().uri())
                    .doesNotContain(PASSWORD).doesNotContain(TOKEN)
                    .doesNotContain("Exception").doesNotContain("\tat ");
        }
        ItSupport.await("a debug line logged after the switch", Duration.ofSeconds(10), () -> logOf(agent).contains(" DEBUG "));
        assertThat(logOf(agent)).as("agent log").doesNotContain(PASSWORD).doesNotContain(TOKEN);
    }

    @Test
    void lagAlertFiresWhileNoAgentCanStreamAndResolvesWhenOneDoes() throws Exception {
        String cluster = ItSupport.uniqueCluster("lag");
        String table = "public." + cluster + "_t";
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        String slot = configs.slot();
        // The test takes the slot first and holds it, replying but never confirming: no agent can stream,
        // and the lag grows as it would behind a stuck consumer.
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)",
                "CREATE PUBLICATION " + slot + " FOR TABLE " + table,
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        cleanup.add(() -> ItSupport.dropSlotAndPublication(sandbox, slot));
        SlotHolder holder = closeLater(new SlotHolder(slot));

        List<JsonNode> notifications = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            notifications.add(ItSupport.json(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        cleanup.add(() -> receiver.stop(0));
        configs.section("alerts:\n  lagBytesWarning: 256KB\n  noLeaderFor: 2s\n"
                + "  webhook: { url: 'http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook', backoff: 200ms }");
        int port1 = ItSupport.freePort();
        int port2 = ItSupport.freePort();
        AgentProcess a1 = closeLater(AgentProcess.start("agent-1", configs.yaml("agent-1", port1)));
        AgentProcess a2 = closeLater(AgentProcess.start("agent-2", configs.yaml("agent-2", port2)));
        String standby = "http://127.0.0.1:" + port2;
        ItSupport.await("both agents stand by", Duration.ofSeconds(60), () -> role(port1).equals("standby") && role(port2).equals("standby"));

        for (int i = 0; i < 6; i++) {
            sandbox.postgres().execute("INSERT INTO " + table + " SELECT g, repeat('x', 200) FROM generate_series("
                    + i * 500 + ", " + (i * 500 + 499) + ") g");
        }
        ItSupport.await("slot_lag_bytes in a standby's /status", Duration.ofSeconds(30),
                () -> alertNames(standby).contains("slot_lag_bytes/warning"));
        JsonNode alert = firstAlert(standby, "slot_lag_bytes");
        assertThat(alert.get("summary").asText()).contains(slot, "bytes of WAL not yet confirmed");
        assertThat(alert.get("since").asText()).isNotBlank();
        assertThat(value(scrape(standby), "pgrelay_alert", Map.of("name", "slot_lag_bytes", "severity", "warning"))).isEqualTo(1.0);
        assertThat(value(scrape(standby), "pgrelay_leader", Map.of())).isZero();
        ItSupport.await("no_leader fires too", Duration.ofSeconds(30), () -> alertNames(standby).contains("no_leader/critical"));
        ItSupport.await("the webhook got slot_lag_bytes firing", Duration.ofSeconds(30),
                () -> count(notifications, "firing", "slot_lag_bytes") >= 1);
        Thread.sleep(2000); // time for a second agent to send a duplicate, if it wrongly did
        assertThat(count(notifications, "firing", "slot_lag_bytes")).as("sent once for the cluster: " + notifications).isEqualTo(1);
        JsonNode firing = find(notifications, "firing", "slot_lag_bytes");
        assertThat(firing.get("agent").asText()).as("no leader: the live standby with the lowest id sends").isEqualTo("agent-1");
        assertThat(firing.get("cluster").asText()).isEqualTo(cluster);
        assertThat(firing.get("alert").get("severity").asText()).isEqualTo("warning");

        holder.close(); // resume: an agent takes the slot and catches up
        ItSupport.await("the webhook got slot_lag_bytes resolved", Duration.ofSeconds(60),
                () -> count(notifications, "resolved", "slot_lag_bytes") >= 1);
        ItSupport.await("no_leader resolved", Duration.ofSeconds(30), () -> count(notifications, "resolved", "no_leader") >= 1);
        Thread.sleep(2000);
        assertThat(count(notifications, "resolved", "slot_lag_bytes")).as(notifications.toString()).isEqualTo(1);
        ItSupport.await("alert gone from /status", Duration.ofSeconds(10), () -> !alertNames(standby).contains("slot_lag_bytes/warning"));
        assertThat(value(scrape(standby), "pgrelay_alert", Map.of("name", "slot_lag_bytes", "severity", "warning"))).isZero();
        assertThat(a1.log() + a2.log()).doesNotContain("/hook"); // the webhook URL is a secret
    }

    @Test
    void heartbeatKeepsRetainedWalBoundedWhileOtherTablesAreBusy() throws Exception {
        String busy = "public." + ItSupport.uniqueCluster("hb") + "_busy_unpublished";
        sandbox.postgres().execute("CREATE TABLE " + busy + " (id bigserial PRIMARY KEY, v text)");
        // One after the other, not side by side: a heartbeat is a non-transactional logical decoding
        // message, which every logical slot of the database receives, publication or not — the
        // agent with the heartbeat would keep the other's slot moving too.
        Retained off = retainedWhileOtherTablesAreBusy("hboff", "off", busy);
        Retained on = retainedWhileOtherTablesAreBusy("hbon", "1s", busy);
        System.out.printf("heartbeat: with it, %d bytes of WAL written by an unpublished table and %d retained; "
                + "without it, %d written and %d retained%n", on.written, on.retained, off.written, off.retained);
        assertThat(on.written).isGreaterThan(20L << 20);
        assertThat(on.retained).as("heartbeat on: retained WAL bounded").isLessThan(on.written / 10);
        // the control: this setup needs the heartbeat, so the assertion above is about it
        assertThat(off.retained).as("heartbeat off: the slot keeps everything since the last published change")
                .isGreaterThan(off.written / 2);
    }

    private record Retained(long written, long retained) {
    }

    /**
     * One agent with {@code heartbeat.interval} as given, one change on its published table, then
     * 8 s of writes to an unpublished table: the WAL written, and what the agent's slot retains.
     */
    private Retained retainedWhileOtherTablesAreBusy(String name, String heartbeatInterval, String busy) throws Exception {
        String cluster = ItSupport.uniqueCluster(name);
        String idle = "public." + cluster + "_idle";
        sandbox.postgres().execute("CREATE TABLE " + idle + " (id int PRIMARY KEY)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(idle).section("heartbeat: { interval: " + heartbeatInterval + " }");
        // The agent leaves pgjdbc's automatic flush off (it would confirm keepalive positions no
        // checkpoint records): the heartbeat is all that moves an idle slot, which is what this shows.
        try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
            ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(60));
            sandbox.postgres().execute("INSERT INTO " + idle + " VALUES (1)");
            Thread.sleep(3000);
            long start = Long.parseLong(ItSupport.queryOne(sandbox, "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            while (System.nanoTime() < deadline) {
                sandbox.postgres().execute("INSERT INTO " + busy + " (v) SELECT repeat('b', 1000) FROM generate_series(1, 2000)");
            }
            long written = Long.parseLong(ItSupport.queryOne(sandbox, "SELECT (pg_current_wal_lsn() - '0/0')::bigint")) - start;
            // restart_lsn moves at running-xacts records; the background writer logs one every 15 s, this just doesn't wait for it
            ItSupport.queryOne(sandbox, "SELECT pg_log_standby_snapshot()");
            Thread.sleep(4000);
            return new Retained(written, retained(configs.slot()));
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private long retained(String slot) {
        return Long.parseLong(ItSupport.queryOne(sandbox,
                "SELECT (pg_current_wal_lsn() - restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '" + slot + "'"));
    }

    /** A replication connection that holds the slot, replies to the server, and confirms nothing. */
    private final class SlotHolder implements AutoCloseable {
        private final Connection connection;
        private final PGReplicationStream stream;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        SlotHolder(String slot) throws Exception {
            Properties props = new Properties();
            PGProperty.USER.set(props, sandbox.postgres().superuser());
            PGProperty.REPLICATION.set(props, "database");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
            PGProperty.PREFER_QUERY_MODE.set(props, "simple");
            connection = DriverManager.getConnection(sandbox.postgres().jdbcUrl(), props);
            stream = connection.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot).withSlotOption("proto_version", "1").withSlotOption("publication_names", slot)
                    .withStatusInterval(500, TimeUnit.MILLISECONDS).withAutomaticFlush(false).start();
            thread = new Thread(() -> {
                while (running.get()) {
                    try {
                        stream.readPending(); // read and drop; status updates go out every 500 ms, flushed never moves
                        Thread.sleep(20);
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "slot-holder");
            thread.start();
        }

        @Override
        public void close() throws Exception {
            if (running.compareAndSet(true, false)) {
                thread.join(5000);
                connection.close();
            }
        }
    }

    private String role(int port) {
        try {
            HttpResponse<String> r = get("http://127.0.0.1:" + port + "/status");
            return r.statusCode() == 200 ? ItSupport.json(r.body()).get("role").asText() : "";
        } catch (IllegalStateException e) {
            return "";
        }
    }

    private List<String> alertNames(String base) {
        List<String> names = new ArrayList<>();
        ItSupport.json(get(base + "/status").body()).get("alerts")
                .forEach(a -> names.add(a.get("name").asText() + "/" + a.get("severity").asText()));
        return names;
    }

    private JsonNode firstAlert(String base, String name) {
        for (JsonNode a : ItSupport.json(get(base + "/status").body()).get("alerts")) {
            if (a.get("name").asText().equals(name)) {
                return a;
            }
        }
        throw new AssertionError("no alert " + name);
    }

    private static long count(List<JsonNode> notifications, String status, String name) {
        return notifications.stream().filter(n -> n.get("status").asText().equals(status)
                && n.get("alert").get("name").asText().equals(name)).count();
    }

    private static JsonNode find(List<JsonNode> notifications, String status, String name) {
        return notifications.stream().filter(n -> n.get("status").asText().equals(status)
                && n.get("alert").get("name").asText().equals(name)).findFirst().orElseThrow();
    }

    private static String logOf(AgentProcess agent) {
        try {
            return agent.log();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code /metrics} read by a Prometheus text-format parser: family name → its metrics. */
    private Map<String, List<Metric>> scrape(String base) {
        HttpResponse<String> r = get(base + "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, List<Metric>> families = new HashMap<>();
        try {
            TextPrometheusMetricDataParser parser = new TextPrometheusMetricDataParser(
                    new ByteArrayInputStream(r.body().getBytes(StandardCharsets.UTF_8)));
            for (MetricFamily f = parser.parse(); f != null; f = parser.parse()) {
                families.put(f.getName(), f.getMetrics());
            }
        } catch (IOException e) {
            throw new AssertionError("not Prometheus text: " + e.getMessage() + "\n" + r.body(), e);
        }
        return families;
    }

    /** The value of the metric of the family whose labels include the given ones. */
    private static double value(Map<String, List<Metric>> families, String name, Map<String, String> labels) {
        for (Metric m : families.getOrDefault(name, List.of())) {
            if (m.getLabels().entrySet().containsAll(labels.entrySet())) {
                if (m instanceof Counter c) {
                    return c.getValue();
                }
                if (m instanceof Gauge g) {
                    return g.getValue();
                }
            }
        }
        throw new AssertionError("no metric " + name + " with labels " + labels + " in " + families.keySet());
    }

    private int statusCode(String url) {
        try {
            return get(url).statusCode();
        } catch (IllegalStateException e) {
            return -1; // not listening yet
        }
    }

    private HttpResponse<String> get(String url) {
        return send("GET", url, null, null);
    }

    private HttpResponse<String> send(String method, String url, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + url + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
