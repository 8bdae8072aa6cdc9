package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.agent.core.Position;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots against real servers and agent processes: an initial snapshot of half a million rows
 * while the same rows are inserted, updated and deleted, with the leader SIGKILLed twice; an
 * on-demand snapshot over HTTP while streaming goes on; a table without a key.
 */
@ExtendWith(SandboxExtension.class)
class SnapshotIT {

    private static final String TOKEN = "snapshot-admin-token";
    private static final long SEED_FROM = 1_000_000;
    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void initialSnapshotUnderWritesSurvivesTwoLeaderKillsAndSendsEachRowOnce() throws Exception {
        String cluster = ItSupport.uniqueCluster("snap");
        String table = "public." + cluster + "_orders";
        int seeded = 500_000;
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        sandbox.postgres().execute("INSERT INTO " + table + " SELECT g, 0, 'seed ' || g FROM generate_series("
                + SEED_FROM + ", " + (SEED_FROM + seeded - 1) + ") g", "ANALYZE " + table);
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table).adminToken(TOKEN).snapshot("initial", 2048);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean passed = new AtomicBoolean();
        try (Cluster agents = Cluster.start(configs, 3);
             Rebuild kafka = new Rebuild(sandbox.kafka().bootstrapServers(), cluster + "." + table);
             AutoCloseable dump = () -> dumpLogs(agents, passed)) {
            CompletableFuture<Void> inserts = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 20, 3, 1_000, stop));
            CompletableFuture<Long> churn = CompletableFuture.supplyAsync(() -> churn(sandbox, table, seeded, stop));
            long t0 = System.nanoTime();
            List<String> kills = new ArrayList<>();
            for (long killAfter : new long[] {100_000, 250_000}) {
                Cluster.Member leader = agents.awaitLeader(60_000);
                ItSupport.await(leader.id() + " has sent " + killAfter + " snapshot rows", Duration.ofSeconds(120),
                        () -> snapshotRows(leader) >= killAfter);
                long sent = snapshotRows(leader);
                long killedAt = System.nanoTime();
                leader.process().kill();
                Cluster.Member next = agents.awaitLeader(60_000);
                ItSupport.await(next.id() + " continuing the snapshot", Duration.ofSeconds(60), () -> resumedFrom(next) >= 0);
                long resumedFrom = resumedFrom(next);
                ItSupport.await(next.id() + " sending snapshot rows", Duration.ofSeconds(60), () -> snapshotRows(next) > resumedFrom);
                kills.add(leader.id() + " killed with " + sent + " rows sent, " + next.id() + " continued after the " + resumedFrom
                        + " committed, sending again " + (System.nanoTime() - killedAt) / 1_000_000 + " ms after the kill");
                assertThat(resumedFrom).as("rows the new leader found committed (it did not start over)").isGreaterThan(sent - 20_000);
                leader.process().start();
            }
            Cluster.Member last = agents.awaitLeader(60_000);
            ItSupport.await("the snapshot done", Duration.ofSeconds(120), () -> snapshotDone(agents));
            long snapshotMs = (System.nanoTime() - t0) / 1_000_000;
            stop.set(true);
            inserts.get();
            long churned = churn.get();
            Map<Long, String> expected = tableRows(sandbox, table);
            ItSupport.await("Kafka rebuilt equal to the table", Duration.ofSeconds(60), () -> kafka.rows().equals(expected));
            Thread.sleep(1_000);
            Rebuild.Result r = kafka.result();
            System.out.printf("SnapshotIT: %d seeded rows snapshotted in %d ms (%d rows/s, two takeovers included) while %d inserts"
                            + " and %d updates/deletes ran; %s; %d snapshot events, %d rows in Kafka = table%n",
                    seeded, snapshotMs, seeded * 1000L / Math.max(1, snapshotMs), load.inserted(), churned, kills,
                    r.snapshotEvents(), r.rows().size());
            assertThat(r.rows()).isEqualTo(expected);
            assertThat(r.keysSnapshottedTwice()).as("keys with two snapshot events").isZero();
            assertThat(r.positionsOutOfOrder()).as("positions not growing").isZero();
            // Seeded rows the churn did not touch, plus the load's early rows (lower ids, read by the first chunks).
            assertThat(r.snapshotEvents()).isGreaterThan(seeded / 2).isLessThanOrEqualTo(seeded + load.inserted());
            assertThat(last.process().isAlive()).isTrue();
            passed.set(true);
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    @Test
    void onDemandSnapshotOverHttpWhileStreamingAndAKeylessTable() throws Exception {
        String cluster = ItSupport.uniqueCluster("snapod");
        String table = "public." + cluster + "_items";
        String keyless = "public." + cluster + "_log";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        sandbox.postgres().execute(
                "INSERT INTO " + table + " SELECT g, 0, 'seed ' || g FROM generate_series(" + SEED_FROM + ", " + (SEED_FROM + 2999) + ") g",
                "CREATE TABLE " + keyless + " (n int NOT NULL, note text)",
                "INSERT INTO " + keyless + " SELECT g, 'old' FROM generate_series(1, 20000) g");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table, keyless).adminToken(TOKEN)
                .snapshot("initial", 500);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean passed = new AtomicBoolean();
        try (Cluster agents = Cluster.start(configs, 2);
             Rebuild kafka = new Rebuild(sandbox.kafka().bootstrapServers(), cluster + "." + table);
             TopicReader logTopic = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + keyless);
             AutoCloseable dump = () -> dumpLogs(agents, passed)) {
            CompletableFuture<Void> inserts = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 10, 2, 500, stop));
            CompletableFuture<Void> logInserts = CompletableFuture.runAsync(() -> appendLog(keyless, stop));
            Cluster.Member leader = agents.awaitLeader(60_000);
            ItSupport.await("the initial snapshot done", Duration.ofSeconds(60), () -> snapshotDone(agents));
            Cluster.Member standby = agents.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
            long before = kafka.result().snapshotEvents();

            String body = "{\"tables\":[\"" + table + "\"]}";
            assertThat(AgentHttp.post(leader.url(), "/admin/snapshot", body, null).status()).isEqualTo(401);
            assertThat(AgentHttp.post(leader.url(), "/admin/snapshot", body, "wrong").status()).isEqualTo(401);
            assertThat(AgentHttp.post(standby.url(), "/admin/snapshot", body, TOKEN).status()).isEqualTo(409);
            AgentHttp.Response missing = AgentHttp.post(leader.url(), "/admin/snapshot", "{\"tables\":[\"public.no_such_table\"]}", TOKEN);
            assertThat(missing.status()).isEqualTo(400);
            assertThat(missing.body()).contains("public.no_such_table").doesNotContain("Exception");
            assertThat(AgentHttp.post(leader.url(), "/admin/snapshot", "{\"tables\":[]}", TOKEN).status()).isEqualTo(400);
            AgentHttp.Response accepted = AgentHttp.post(leader.url(), "/admin/snapshot", body, TOKEN);
            assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
            ItSupport.await("the requested snapshot running", Duration.ofSeconds(30), () -> !snapshotDone(agents));
            ItSupport.await("the requested snapshot done", Duration.ofSeconds(60), () -> snapshotDone(agents));
            // the leader now: a pipeline that fails (a fatal producer error) may lose the slot race to the standby
            Cluster.Member current = agents.awaitLeader(30_000);
            JsonNode status = AgentHttp.status(current.url()).orElseThrow().path("snapshot");
            String metrics = AgentHttp.get(current.url(), "/metrics").body();
            stop.set(true);
            inserts.get();
            logInserts.get();
            Map<Long, String> expected = tableRows(sandbox, table);
            ItSupport.await("Kafka rebuilt equal to the table", Duration.ofSeconds(60), () -> kafka.rows().equals(expected));
            long again = kafka.result().snapshotEvents() - before;
            long rowsAtRequest = 3000;
            System.out.printf("SnapshotIT on demand: %d snapshot events the second time; status %s%n", again, status);
            assertThat(again).isGreaterThanOrEqualTo(rowsAtRequest - 50); // rows the stream superseded in a window are not sent
            assertThat(kafka.result().mostSnapshotsOfOneKey()).as("snapshot events of one key over two snapshots").isLessThanOrEqualTo(2);
            assertThat(kafka.result().positionsOutOfOrder()).isZero();
            assertThat(status.path("active").asBoolean()).isFalse();
            assertThat(status.path("tables").get(0).path("table").asText()).isEqualTo(table);
            assertThat(status.path("tables").get(0).path("state").asText()).isEqualTo("done");
            assertThat(metrics).contains("pgrelay_snapshot_rows_total{").contains("pgrelay_events_total{").contains("op=\"snapshot\"");

            // The table without a key: every row once (rebuilt as a consumer would: see KeylessRebuild).
            int expectedLog = Integer.parseInt(ItSupport.queryOne(sandbox, "SELECT count(*) FROM " + keyless));
            logTopic.readUntil(rs -> rs.stream().filter(x -> x.value() != null).count() >= expectedLog, Duration.ofSeconds(30));
            logTopic.drain(Duration.ofSeconds(1));
            Map<String, Integer> logRows = new HashMap<>();
            try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT n, note FROM " + keyless)) {
                while (rs.next()) {
                    logRows.merge(rs.getString(1) + "|" + rs.getString(2), 1, Integer::sum);
                }
            }
            Map<String, Integer> rebuilt = KeylessRebuild.rebuild(logTopic.records(),
                    r -> r.path("n").asText() + "|" + r.path("note").asText());
            System.out.printf("SnapshotIT keyless: %d rows in the table, %d rebuilt from Kafka%n", expectedLog,
                    KeylessRebuild.count(rebuilt));
            assertThat(rebuilt).isEqualTo(logRows);
            passed.set(true);
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    /** Unless the test got to its end (stop set): what the agents said about snapshots, and every warning. */
    static void dumpLogs(Cluster c, AtomicBoolean ended) {
        if (ended.get()) {
            return;
        }
        {
            for (Cluster.Member m : c.members()) {
                try {
                    m.process().log().lines().filter(l -> l.contains("napshot") || l.contains("WARN") || l.contains("ERROR")
                                    || l.contains("leader"))
                            .limit(200).forEach(l -> System.out.println(m.id() + " | " + l));
                } catch (java.io.IOException e) {
                    System.out.println(m.id() + ": no log: " + e);
                }
            }
        }
    }

    private void appendLog(String table, AtomicBoolean stop) {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " VALUES (?, 'new')")) {
            for (int n = 100_000; !stop.get(); n++) {
                ps.setInt(1, n);
                ps.execute();
                Thread.sleep(5);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Updates and deletes seeded rows — the ones the snapshot reads — until stopped; returns how many. */
    static long churn(Sandbox sandbox, String table, int seeded, AtomicBoolean stop) {
        long n = 0;
        try (Connection c = sandbox.postgres().connect();
             PreparedStatement upd = c.prepareStatement("UPDATE " + table + " SET version = version + 1, payload = 'churned' WHERE id = ?");
             PreparedStatement del = c.prepareStatement("DELETE FROM " + table + " WHERE id = ?")) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                for (int i = 0; i < 4; i++) {
                    upd.setLong(1, SEED_FROM + ThreadLocalRandom.current().nextInt(seeded));
                    upd.addBatch();
                }
                upd.executeBatch();
                del.setLong(1, SEED_FROM + ThreadLocalRandom.current().nextInt(seeded));
                del.execute();
                c.commit();
                n += 5;
                Thread.sleep(5);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return n;
    }

    /** From the agent's log: the rows of the snapshot its last term found committed; -1 before it says. */
    static long resumedFrom(Cluster.Member m) {
        try {
            java.util.regex.Matcher found = java.util.regex.Pattern.compile("continuing the snapshot in progress: \\S+ after (\\d+) rows")
                    .matcher(m.process().log());
            long rows = -1;
            while (found.find()) {
                rows = Long.parseLong(found.group(1));
            }
            return rows;
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    static long snapshotRows(Cluster.Member m) {
        return AgentHttp.status(m.url()).map(s -> {
            long rows = 0;
            for (JsonNode t : s.path("snapshot").path("tables")) {
                rows += t.path("rowsSent").asLong();
            }
            return rows;
        }).orElse(0L);
    }

    static boolean snapshotDone(Cluster agents) {
        return agents.leader().flatMap(l -> AgentHttp.status(l.url()))
                .map(s -> s.path("snapshot").isObject() && !s.path("snapshot").path("active").asBoolean(true))
                .orElse(false);
    }

    static Map<Long, String> tableRows(Sandbox sandbox, String table) throws SQLException {
        Map<Long, String> rows = new HashMap<>();
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, version, payload FROM " + table)) {
            while (rs.next()) {
                rows.put(rs.getLong(1), rs.getInt(2) + "|" + rs.getString(3));
            }
        }
        return rows;
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A read_committed consumer on its own thread that rebuilds a LoadGenerator table from its
     * topic (last value per key; a delete removes it), notes per key the epochs of its snapshot
     * events in order, and counts positions that do not grow. It keeps the records themselves only
     * when asked (a 500,000-row snapshot need not).
     */
    static final class Rebuild implements AutoCloseable {
        record Result(Map<Long, String> rows, long snapshotEvents, long keysSnapshottedTwice, long positionsOutOfOrder,
                      int mostSnapshotsOfOneKey) {
        }

        private final TopicReader reader;
        private final Thread thread;
        private final boolean keepRecords;
        private final List<ConsumerRecord<String, String>> records = new ArrayList<>();
        private final Map<Long, String> rows = new HashMap<>();
        private final Map<Long, List<Long>> snapshotEpochs = new HashMap<>();
        private long snapshotEvents;
        private long outOfOrder;
        private Position last = Position.NONE;
        private volatile boolean closed;

        Rebuild(String bootstrap, String topic) {
            this(bootstrap, topic, false);
        }

        Rebuild(String bootstrap, String topic, boolean keepRecords) {
            this.keepRecords = keepRecords;
            reader = new TopicReader(bootstrap, topic);
            thread = new Thread(() -> {
                while (!closed) {
                    reader.forEach(Long.MAX_VALUE, Duration.ofMillis(300), this::apply);
                }
            }, "snapshot-rebuild");
            thread.start();
        }

        private synchronized void apply(ConsumerRecord<String, String> r) {
            if (keepRecords) {
                records.add(r);
            }
            if (r.value() == null) {
                return;
            }
            Position p = Lsns.position(r);
            if (!p.isAfter(last)) {
                outOfOrder++;
            }
            last = p;
            JsonNode e = ItSupport.json(r.value());
            String op = e.path("op").asText();
            if (op.equals("delete")) {
                rows.remove(e.path("key").path("id").asLong());
                return;
            }
            JsonNode after = e.path("after");
            long id = after.path("id").asLong();
            rows.put(id, after.path("version").asInt() + "|" + after.path("payload").asText());
            if (op.equals("snapshot")) {
                snapshotEvents++;
                snapshotEpochs.computeIfAbsent(id, k -> new ArrayList<>(1))
                        .add(Long.parseLong(ItSupport.header(r, "pgrelay.epoch")));
            }
        }

        synchronized Map<Long, String> rows() {
            return new HashMap<>(rows);
        }

        /** Per key, the epochs of its snapshot events in the order they arrived. */
        synchronized Map<Long, List<Long>> snapshotEpochs() {
            Map<Long, List<Long>> copy = new HashMap<>();
            snapshotEpochs.forEach((k, v) -> copy.put(k, List.copyOf(v)));
            return copy;
        }

        /** Every record read so far; empty unless made with {@code keepRecords}. */
        synchronized List<ConsumerRecord<String, String>> records() {
            return new ArrayList<>(records);
        }

        synchronized Result result() {
            long twice = snapshotEpochs.values().stream().filter(e -> e.size() > 1).count();
            int most = snapshotEpochs.values().stream().mapToInt(List::size).max().orElse(0);
            return new Result(new HashMap<>(rows), snapshotEvents, twice, outOfOrder, most);
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            thread.join(5_000);
            reader.close();
        }
    }
}
