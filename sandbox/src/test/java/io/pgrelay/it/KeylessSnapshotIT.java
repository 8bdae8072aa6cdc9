package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
 * Tables without a key under a snapshot: every row exactly once, from the snapshot or from the
 * stream. Three agents start a new cluster over two keyless tables written before the slot existed:
 * an insert-only log written at ~1,000 rows/s throughout (snapshotted second, so its inserts stream
 * before its snapshot begins — the {@code pgbench_history} case), and a REPLICA IDENTITY FULL table
 * whose (distinct) rows are updated and deleted meanwhile. The leader is SIGKILLed in the middle
 * of the snapshot. A consumer that applies inserts and snapshot rows as additions and an update's
 * or delete's old row as the removal of that row (when it holds it) ends with each table's multiset.
 */
@ExtendWith(SandboxExtension.class)
class KeylessSnapshotIT {

    private static final int SEEDED = 60_000;

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
                "INSERT INTO " + full + " SELECT g, 'seed' FROM generate_series(1, " + SEEDED + ") g",
                "INSERT INTO " + log + " SELECT g, 'seed' FROM generate_series(1, " + SEEDED + ") g");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(full, log).snapshot("initial", 1_000);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong written = new AtomicLong();
        try (Cluster agents = Cluster.start(configs, 3)) {
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> write(full, log, stop, written));
            Cluster.Member leader = agents.awaitLeader(60_000);
            ItSupport.await(leader.id() + " in the middle of the snapshot", Duration.ofSeconds(120),
                    () -> SnapshotIT.snapshotRows(leader) >= SEEDED / 3);
            long sentBeforeKill = SnapshotIT.snapshotRows(leader);
            leader.process().kill();
            Cluster.Member next = agents.awaitLeader(60_000);
            ItSupport.await("the snapshot done by " + next.id(), Duration.ofSeconds(180), () -> SnapshotIT.snapshotDone(agents));
            Thread.sleep(2_000);
            stop.set(true);
            load.get();
            Map<String, Integer> expectedFull = rows(full);
            Map<String, Integer> expectedLog = rows(log);
            Map<String, Integer>[] rebuilt = new Map[2];
            ItSupport.await("Kafka rebuilt equal to both tables", Duration.ofSeconds(60), () -> {
                rebuilt[0] = rebuild(cluster + "." + full);
                rebuilt[1] = rebuild(cluster + "." + log);
                return rebuilt[0].equals(expectedFull) && rebuilt[1].equals(expectedLog);
            });
            System.out.printf("KeylessSnapshotIT: %d + %d seeded rows, %d written during the snapshot; leader killed after %d"
                    + " snapshot rows; Kafka = tables (%d and %d rows)%n", SEEDED, SEEDED, written.get(), sentBeforeKill,
                    count(expectedFull), count(expectedLog));
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    /** ~1,000 inserts a second into the log; every tenth round an update and a delete of distinct rows of the FULL table. */
    private void write(String full, String log, AtomicBoolean stop, AtomicLong written) {
        int n = 1_000_000;
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
            while (!stop.get()) {
                for (int i = 0; i < 10; i++, n++) {
                    s.execute("INSERT INTO " + log + " VALUES (" + n + ", 'live')");
                }
                int victim = (n / 10) % SEEDED + 1;
                s.execute("UPDATE " + full + " SET note = 'updated " + n + "' WHERE n = " + victim + " AND note = 'seed'");
                s.execute("DELETE FROM " + full + " WHERE n = " + ((victim * 7) % SEEDED + 1) + " AND note = 'seed'");
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

    /** The multiset of rows a read_committed consumer builds from the topic. */
    private Map<String, Integer> rebuild(String topic) {
        Map<String, Integer> rows = new HashMap<>();
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic)) {
            for (ConsumerRecord<String, String> rec : reader.drain(Duration.ofMillis(1500))) {
                if (rec.value() == null) {
                    continue;
                }
                JsonNode e = ItSupport.json(rec.value());
                switch (e.path("op").asText()) {
                    case "truncate" -> rows.clear();
                    case "insert", "snapshot" -> rows.merge(row(e.path("after")), 1, Integer::sum);
                    case "update" -> {
                        remove(rows, row(e.path("before")));
                        rows.merge(row(e.path("after")), 1, Integer::sum);
                    }
                    case "delete" -> remove(rows, row(e.path("before")));
                    default -> throw new IllegalStateException("unexpected event " + rec.value());
                }
            }
        }
        return rows;
    }

    /** A row the consumer does not hold yet (the snapshot had not reached its page): nothing to remove. */
    private static void remove(Map<String, Integer> rows, String row) {
        rows.computeIfPresent(row, (k, v) -> v == 1 ? null : v - 1);
    }

    private static String row(JsonNode r) {
        return r.path("n").asText() + "|" + r.path("note").asText();
    }

    private static long count(Map<String, Integer> rows) {
        return rows.values().stream().mapToLong(Integer::longValue).sum();
    }
}
