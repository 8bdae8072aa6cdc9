package io.pgrelay.it;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.server.ConnectWorker;
import io.pgrelay.sandbox.server.SchemaRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real consumer of {@code format: debezium}, {@code serialization: json-schema} and {@code avro}: Debezium's JDBC
 * sink connector in a Kafka Connect standalone worker (a child process: {@link ConnectWorker})
 * applies pgrelay's topics to a second database on the sandbox's PostgreSQL, through a mixed
 * workload and a SIGKILL of the leader of three agents; then the target tables hold what the
 * source tables hold, column by column, as PostgreSQL renders them.
 *
 * <p>The target tables are created with the source's DDL ({@code schema.evolution=none}), so the
 * comparison is of the same types on both sides. The keyless table goes through the sink as
 * docs/formats.md says it can: {@code primary.key.mode=record_value} on a column the target makes
 * unique, inserts and updates applied, deletes not (the sink deletes by record key only).
 */
@Tag("drill")   // a long drill: ./mvnw verify -Pdrills
@ExtendWith(SandboxExtension.class)
class JdbcSinkRoundTripIT {

    private static final int ROUNDS = 160;
    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    private final Sandbox sandbox = Sandbox.shared();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @Test
    void debeziumsJdbcSinkMakesTheTargetEqualTheSourceThroughALeaderKill() throws Exception {
        roundTrip("jsink", List.of("serialization: json-schema"), Map.of());
    }

    /**
     * The same in {@code serialization: avro} through the sandbox's schema registry: the sink's
     * converters are Apicurio's Kafka Connect AvroConverter reading the Confluent wire format
     * ({@code as-confluent}: magic byte, 4-byte id) with the schema fetched by that id — the id
     * Apicurio's Confluent API gave pgrelay is its content id.
     */
    @Test
    void theSameThroughTheSchemaRegistryInAvro() throws Exception {
        SchemaRegistry registry = SchemaRegistry.start();
        cleanup.add(registry);
        Map<String, String> converters = new TreeMap<>();
        for (String side : List.of("key", "value")) {
            converters.put(side + ".converter", "io.apicurio.registry.utils.converter.AvroConverter");
            converters.put(side + ".converter.apicurio.registry.url", registry.apicurioUrl());
            converters.put(side + ".converter.apicurio.registry.as-confluent", "true");
            converters.put(side + ".converter.apicurio.registry.use-id", "contentId");
            converters.put(side + ".converter.apicurio.registry.headers.enabled", "false");
        }
        roundTrip("jsinkavro", List.of("serialization: avro", "schemaRegistry: { url: '" + registry.url() + "' }"), converters);
    }

    /**
     * The drill in one serialization: {@code kafkaLines} under the agents' {@code kafka:},
     * {@code converters} added to both sink connectors' settings.
     */
    private void roundTrip(String name, List<String> kafkaLines, Map<String, String> converters) throws Exception {
        String cluster = ItSupport.uniqueCluster(name);
        String main = "public." + cluster + "_all";
        String keyless = "public." + cluster + "_nokey";
        String target = cluster + "_target";
        // the sink's default collection.name.format is ${topic}, dots made underscores
        String mainTarget = (cluster + "." + main).replace('.', '_');
        String keylessTarget = (cluster + "." + keyless).replace('.', '_');

        StringBuilder columns = new StringBuilder("id int4 PRIMARY KEY");
        StringBuilder names = new StringBuilder("id");
        StringBuilder values = new StringBuilder();
        StringBuilder compared = new StringBuilder("id::text");
        for (String[] c : COLUMNS) {
            columns.append(", ").append(c[0]).append(' ').append(c[1]);
            names.append(", ").append(c[0]);
            values.append(", ").append(c[2]);
            compared.append(", ").append(switch (c[1]) {
                // Debezium's envelope keeps the instant, not the offset (ZonedTime is UTC) …
                case "timetz" -> "(" + c[0] + " AT TIME ZONE 'UTC')::text";
                // … and an interval's length in microseconds, not its days and hours
                case "interval" -> "extract(epoch FROM " + c[0] + ")::text";
                default -> c[0] + "::text";
            });
        }
        String keylessColumns = "a int4, b text, c numeric(10,2)";
        sandbox.postgres().execute(
                "CREATE TABLE " + main + " (" + columns + ")",
                "ALTER TABLE " + main + " ALTER COLUMN c_big SET STORAGE EXTERNAL",   // out of line: unchanged TOAST on updates
                // FULL: PostgreSQL sends the old row, unchanged TOAST values included, as Debezium needs to fill them in
                "ALTER TABLE " + main + " REPLICA IDENTITY FULL",
                "CREATE TABLE " + keyless + " (" + keylessColumns + ")",
                "ALTER TABLE " + keyless + " REPLICA IDENTITY FULL",
                "CREATE DATABASE " + target);
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + main, "DROP TABLE IF EXISTS " + keyless,
                "DROP DATABASE IF EXISTS " + target + " WITH (FORCE)"));
        String targetUrl = sandbox.postgres().jdbcUrl(target);
        try (Connection t = DriverManager.getConnection(targetUrl, "postgres", ""); Statement s = t.createStatement()) {
            s.execute("CREATE TABLE " + mainTarget + " (" + columns + ")");
            s.execute("CREATE TABLE " + keylessTarget + " (" + keylessColumns + ", UNIQUE (a))");
        }

        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(main, keyless).kafka("format: debezium");
        kafkaLines.forEach(configs::kafka);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        Cluster agents = Cluster.start(configs, 3);
        cleanup.add(agents);
        Cluster.Member leader = agents.awaitLeader(60_000);
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));

        ConnectWorker worker = ConnectWorker.start(sandbox.kafka().bootstrapServers(), List.of(
                sink(cluster + "-keyed", cluster + "." + main, targetUrl, converters,
                        "insert.mode", "upsert", "primary.key.mode", "record_key", "delete.enabled", "true"),
                sink(cluster + "-keyless", cluster + "." + keyless, targetUrl, converters,
                        "insert.mode", "upsert", "primary.key.mode", "record_value", "primary.key.fields", "a",
                        "delete.enabled", "false")));
        cleanup.add(worker);

        AtomicInteger round = new AtomicInteger();
        Map<String, List<String>> deletedKeyless = new TreeMap<>();
        long t0 = System.nanoTime();
        CompletableFuture<Void> workload = CompletableFuture.runAsync(
                () -> write(main, keyless, names.toString(), values.toString(), round, deletedKeyless));
        ItSupport.await("half the workload", Duration.ofSeconds(60), () -> round.get() >= ROUNDS / 2 || workload.isDone());
        long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
        leader.process().kill();
        workload.get();
        Cluster.Member next = agents.awaitLeader(30_000);
        long nextEpoch = AgentHttp.status(next.url()).orElseThrow().path("epoch").asLong();
        assertThat(next.id()).isNotEqualTo(leader.id());
        assertThat(nextEpoch).isGreaterThan(epoch);

        Map<String, List<String>> expectedMain;
        Map<String, List<String>> expectedKeyless;
        try (Connection source = sandbox.postgres().connect()) {
            expectedMain = rows(source, main, compared.toString(), "id");
            expectedKeyless = rows(source, keyless, "*", "a");
        }
        expectedKeyless.putAll(deletedKeyless);   // deletes of the keyless table are not applied
        Map<String, List<String>> actualMain = Map.of();
        Map<String, List<String>> actualKeyless = Map.of();
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        try (Connection t = DriverManager.getConnection(targetUrl, "postgres", "")) {
            while (System.nanoTime() < deadline) {
                actualMain = rows(t, mainTarget, compared.toString(), "id");
                actualKeyless = rows(t, keylessTarget, "*", "a");
                if (actualMain.equals(expectedMain) && actualKeyless.equals(expectedKeyless) || !worker.isAlive()
                        || worker.status(cluster + "-keyed").contains("FAILED") || worker.status(cluster + "-keyless").contains("FAILED")) {
                    break;
                }
                Thread.sleep(500);
            }
        }
        long caughtUpMs = (System.nanoTime() - t0) / 1_000_000;
        String state = "\nkeyed sink: " + cut(worker.status(cluster + "-keyed"), 3000)
                + "\nkeyless sink: " + cut(worker.status(cluster + "-keyless"), 3000)
                + "\nworker log (problems):\n" + problems(worker.log());
        System.out.printf("JdbcSinkRoundTripIT (%s): %d rounds, leader %s SIGKILLed, %s took over; target equal %s after the"
                        + " workload's start: %d rows of %d columns, %d keyless rows (%d deleted in the source only)%n",
                kafkaLines.get(0), ROUNDS, leader.id(), next.id(), caughtUpMs, expectedMain.size(), COLUMNS.size() + 1,
                expectedKeyless.size(), deletedKeyless.size());
        assertThat(diff(expectedMain, actualMain, main)).as(mainTarget + state).isEmpty();
        assertThat(diff(expectedKeyless, actualKeyless, keyless)).as(keylessTarget + state).isEmpty();
        assertThat(expectedMain).hasSizeGreaterThan(ROUNDS * 2);
        assertThat(deletedKeyless).hasSizeGreaterThan(ROUNDS / 3);
    }

    /**
     * DebeziumFormatIT's columns (name, type, value) less the ones the sink cannot write back:
     * {@code date[]} (its elements arrive as Debezium's int32 days, and the sink writes those
     * numbers, {@code {"20484"}}, which PostgreSQL does not read as dates); with an interval of days and
     * hours only (a month is 30.4375 days in Debezium's MicroDuration and 30 in PostgreSQL); and a
     * float8[] without -0 (JsonConverter reads JSON floats as BigDecimal, which has no negative zero).
     */
    private static final List<String[]> COLUMNS = java.util.Arrays.stream(DebeziumFormatIT.COLUMNS)
            .filter(c -> !c[1].equals("date[]"))
            .map(c -> switch (c[1]) {
                case "interval" -> new String[] {c[0], c[1], "'3 days 04:05:06.789'"};
                case "float8[]" -> new String[] {c[0], c[1], "'{1.5,-2.25e-300}'"};
                default -> c;
            })
            .toList();

    /** One connector of Debezium's JDBC sink for one topic, into a table created beforehand. */
    private static Map<String, String> sink(String name, String topic, String url, Map<String, String> converters,
                                            String... settings) {
        Map<String, String> m = new TreeMap<>(converters);
        m.put("name", name);
        m.put("connector.class", "io.debezium.connector.jdbc.JdbcSinkConnector");
        m.put("tasks.max", "1");
        m.put("topics", topic);
        // the sink binds strings as varchar, which PostgreSQL will not put into inet, cidr, macaddr, ranges, point,
        // tsvector, bit, pg_lsn or arrays: unspecified lets the server infer each parameter's type from its column
        m.put("connection.url", url + "?stringtype=unspecified");
        m.put("connection.username", "postgres");
        m.put("connection.password", "");
        m.put("schema.evolution", "none");
        for (int i = 0; i < settings.length; i += 2) {
            m.put(settings[i], settings[i + 1]);
        }
        return m;
    }

    /**
     * {@link #ROUNDS} transactions, each: four inserts into the main table; an update of an older
     * row that leaves its TOASTed column unchanged; every third round an update of that column; a
     * delete; into the keyless table an insert, an update and every other round a delete (whose
     * row, as it was, goes to {@code deletedKeyless}).
     */
    private void write(String main, String keyless, String names, String values, AtomicInteger round,
                       Map<String, List<String>> deletedKeyless) {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            for (int r = 0; r < ROUNDS; r++) {
                for (int id = 4 * r + 1; id <= 4 * r + 4; id++) {
                    s.execute("INSERT INTO " + main + " (" + names + ") VALUES (" + id + values + ")");
                }
                s.execute("UPDATE " + main + " SET c_int8 = " + (r * 1000L) + ", c_text = 'updated in round " + r
                        + "', c_numeric = " + r + ".5 WHERE id = " + (4 * r + 1));
                if (r >= 1) {
                    s.execute("UPDATE " + main + " SET c_int4 = " + r + ", c_ts = now()::timestamp WHERE id = " + (4 * r - 1));
                }
                if (r >= 1 && r % 3 == 0) {
                    s.execute("UPDATE " + main + " SET c_big = repeat('" + r + "', 3000) WHERE id = " + (4 * r - 3));
                }
                if (r >= 2) {
                    s.execute("DELETE FROM " + main + " WHERE id = " + (4 * r - 6));
                }
                s.execute("INSERT INTO " + keyless + " VALUES (" + r + ", 'b" + r + "', " + r + ".25)");
                if (r >= 1) {
                    s.execute("UPDATE " + keyless + " SET b = b || '!' WHERE a = " + (r - 1));
                }
                if (r >= 2 && r % 2 == 0) {
                    try (ResultSet rs = s.executeQuery("DELETE FROM " + keyless + " WHERE a = " + (r - 2) + " RETURNING *")) {
                        while (rs.next()) {
                            deletedKeyless.put(rs.getString(1), List.of(rs.getString(1), rs.getString(2), rs.getString(3)));
                        }
                    }
                }
                c.commit();
                round.incrementAndGet();
                Thread.sleep(20);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the workload failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Row key → each of {@code select}'s columns as PostgreSQL's text. */
    private static Map<String, List<String>> rows(Connection c, String table, String select, String key) throws SQLException {
        Map<String, List<String>> rows = new TreeMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + select + " FROM " + table + " ORDER BY " + key)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.add(rs.getString(i));
                }
                rows.put(row.get(0), row);
            }
        }
        return rows;
    }

    /** Missing and extra rows by key, and for a row in both the columns that differ (values cut to 80 chars). */
    private List<String> diff(Map<String, List<String>> expected, Map<String, List<String>> actual, String sourceTable) {
        List<String> columns = List.of(Objects.requireNonNull(ItSupport.queryOne(sandbox,
                "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '" + sourceTable
                        + "'::regclass AND attnum > 0 AND NOT attisdropped")).split(","));
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            List<String> got = actual.get(e.getKey());
            if (got == null) {
                problems.add("row " + e.getKey() + " missing");
                continue;
            }
            for (int i = 0; i < e.getValue().size(); i++) {
                String want = e.getValue().get(i);
                String have = i < got.size() ? got.get(i) : "<no column>";
                if (!Objects.equals(want, have)) {
                    problems.add("row " + e.getKey() + " " + columns.get(i) + ": source " + cut(want, 80) + ", target " + cut(have, 80));
                }
            }
        }
        for (String k : actual.keySet()) {
            if (!expected.containsKey(k)) {
                problems.add("row " + k + " in the target only");
            }
        }
        return problems.size() > 40 ? List.copyOf(problems.subList(0, 40)) : problems;
    }

    private static String cut(String s, int max) {
        return s == null ? "null" : s.length() > max ? s.substring(0, max) + "…(" + s.length() + " chars)" : s;
    }

    private static String problems(String log) {
        return log.lines().filter(l -> l.contains("ERROR") || l.contains("WARN") || l.contains("Exception"))
                .map(l -> cut(l, 400)).limit(30).reduce("", (a, b) -> a + b + "\n");
    }
}
