package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tables without a key under a snapshot: every row exactly once. Three agents start a new cluster
 * over two keyless tables written before the slot existed: an insert-only log written at ~1,000
 * rows/s throughout (snapshotted second, so its inserts stream before its snapshot begins — the
 * {@code pgbench_history} case), and a REPLICA IDENTITY FULL table in which every row has two
 * identical copies, one copy of which is updated or deleted meanwhile (no key, nor ctid, nor xmin
 * in a stream event can say which copy a change meant). The leader is SIGKILLed in the middle of the
 * snapshot; then a snapshot of both is asked for again. A consumer applying {@link KeylessRebuild}'s
 * rules ends with each table's multiset.
 */
@ExtendWith(SandboxExtension.class)
class KeylessSnapshotIT {

    private static final int SEEDED = 60_000;
    private static final String TOKEN = "keyless-admin-token";

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void keylessTablesArriveExactlyOnceAcrossALeaderKillMidSnapshot() throws Exception {
        String cluster = ItSupport.uniqueCluster("keyless");
        String full = "public." + cluster + "_a_full";
        String log = "public." + cluster + "_z_log";
        sandbox.postgres().execute(
                "CREATE TABLE " + full + " (n int NOT NULL, note text)",
                "ALTER TABLE " + full + " REPLICA IDENTITY FULL",
                "CREATE TABLE " + log + " (n int NOT NULL, note text)",
                "INSERT INTO " + full + " SELECT g % " + (SEEDED / 2) + ", 'seed' FROM generate_series(1, " + SEEDED + ") g",
                "INSERT INTO " + log + " SELECT g, 'seed' FROM generate_series(1, " + SEEDED + ") g");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(full, log).snapshot("initial", 1_000).adminToken(TOKEN);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean stopAgain = new AtomicBoolean();
        AtomicLong written = new AtomicLong();
        try (Cluster agents = Cluster.start(configs, 3)) {
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> write(full, log, stop, written));
            Cluster.Member leader = agents.awaitLeader(60_000);
            ItSupport.await(leader.id() + " in the middle of the snapshot", Duration.ofSeconds(120),
                    () -> SnapshotIT.snapshotRows(leader) >= SEEDED / 3);
            long sentBeforeKill = SnapshotIT.snapshotRows(leader);
            assertThat(SnapshotIT.snapshotDone(agents)).as("killed in the middle of the snapshot").isFalse();
            leader.process().kill();
            Cluster.Member next = agents.awaitLeader(60_000);
            ItSupport.await("the snapshot done by " + next.id(), Duration.ofSeconds(180), () -> SnapshotIT.snapshotDone(agents));
            Thread.sleep(2_000);
            stop.set(true);
            load.get();
            awaitRebuiltEqual(cluster, full, log, "after the first snapshot");

            // On request, again, under the same load: each table goes out whole once more, after a truncate.
            CompletableFuture<Void> loadAgain = CompletableFuture.runAsync(() -> write(full, log, stopAgain, written));
            Thread.sleep(1_000);
            Cluster.Member current = agents.awaitLeader(30_000);
            AgentHttp.Response accepted = AgentHttp.post(current.url(), "/admin/snapshot",
                    "{\"tables\":[\"" + full + "\",\"" + log + "\"]}", TOKEN);
            assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
            ItSupport.await("the requested snapshot running", Duration.ofSeconds(30), () -> !SnapshotIT.snapshotDone(agents));
            ItSupport.await("the requested snapshot done", Duration.ofSeconds(180), () -> SnapshotIT.snapshotDone(agents));
            Thread.sleep(1_000);
            stopAgain.set(true);
            loadAgain.get();
            long[] rows = awaitRebuiltEqual(cluster, full, log, "after the snapshot on request");
            System.out.printf("KeylessSnapshotIT: %d + %d seeded rows (the FULL table's as identical pairs), %d written meanwhile;"
                    + " leader killed after %d snapshot rows; Kafka = tables (%d and %d rows) after it and after a second"
                    + " snapshot on request%n", SEEDED, SEEDED, written.get(), sentBeforeKill, rows[0], rows[1]);
        } finally {
            stop.set(true);
            stopAgain.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private long[] awaitRebuiltEqual(String cluster, String full, String log, String when) throws Exception {
        Map<String, Integer> expectedFull = rows(full);
        Map<String, Integer> expectedLog = rows(log);
        Map<String, Integer>[] rebuilt = new Map[2];
        try {
            ItSupport.await("Kafka rebuilt equal to both tables " + when, Duration.ofSeconds(60), () -> {
                expectedFull.clear();
                expectedFull.putAll(rowsUnchecked(full));
                expectedLog.clear();
                expectedLog.putAll(rowsUnchecked(log));
                rebuilt[0] = rebuild(cluster + "." + full);
                rebuilt[1] = rebuild(cluster + "." + log);
                return rebuilt[0].equals(expectedFull) && rebuilt[1].equals(expectedLog);
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; FULL table: " + difference(expectedFull, rebuilt[0])
                    + "; log: " + difference(expectedLog, rebuilt[1]), e);
        }
        return new long[] {KeylessRebuild.count(expectedFull), KeylessRebuild.count(expectedLog)};
    }

    /** What Kafka has too many (+) or too few (-) of, the first few. */
    private static String difference(Map<String, Integer> expected, Map<String, Integer> rebuilt) {
        if (rebuilt == null) {
            return "not read";
        }
        StringBuilder d = new StringBuilder();
        int shown = 0;
        java.util.Set<String> all = new java.util.HashSet<>(expected.keySet());
        all.addAll(rebuilt.keySet());
        for (String row : all) {
            int diff = rebuilt.getOrDefault(row, 0) - expected.getOrDefault(row, 0);
            if (diff != 0 && shown++ < 10) {
                d.append(row).append(diff > 0 ? " +" : " ").append(diff).append(", ");
            }
        }
        return shown == 0 ? "equal" : shown + " rows differ: " + d;
    }

    /**
     * ~1,000 inserts a second into the log; every tenth round one copy of an identical pair in the
     * FULL table updated, one copy of another pair deleted, and a new row.
     */
    private final AtomicLong next = new AtomicLong(1_000_000);

    private void write(String full, String log, AtomicBoolean stop, AtomicLong written) {
        int n = (int) next.getAndAdd(10_000_000);
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
            while (!stop.get()) {
                for (int i = 0; i < 10; i++, n++) {
                    s.execute("INSERT INTO " + log + " VALUES (" + n + ", 'live')");
                }
                int pair = (n / 10) % (SEEDED / 2);
                s.execute("UPDATE " + full + " SET note = 'updated " + n + "' WHERE ctid = (SELECT ctid FROM " + full
                        + " WHERE n = " + pair + " AND note = 'seed' LIMIT 1)");
                s.execute("DELETE FROM " + full + " WHERE ctid = (SELECT ctid FROM " + full + " WHERE n = "
                        + ((pair * 7 + 3) % (SEEDED / 2)) + " AND note = 'seed' LIMIT 1)");
                s.execute("INSERT INTO " + full + " VALUES (" + n + ", 'live')");
                written.addAndGet(11);
                Thread.sleep(10);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Map<String, Integer> rows(String table) throws SQLException {
        Map<String, Integer> rows = new HashMap<>();
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT n, note FROM " + table)) {
            while (rs.next()) {
                rows.merge(rs.getString(1) + "|" + rs.getString(2), 1, Integer::sum);
            }
        }
        return rows;
    }

    private Map<String, Integer> rowsUnchecked(String table) {
        try {
            return rows(table);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The multiset of rows a read_committed consumer builds from the topic. */
    private Map<String, Integer> rebuild(String topic) {
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic)) {
            return KeylessRebuild.rebuild(reader.drain(Duration.ofMillis(1500)), KeylessSnapshotIT::row);
        }
    }

    private static String row(JsonNode r) {
        return r.path("n").asText() + "|" + r.path("note").asText();
    }
}
