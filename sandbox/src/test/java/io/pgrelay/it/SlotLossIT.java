package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentProcess;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The silent-loss reproduction: with a cluster that has streamed, stop the agent, drop the slot,
 * keep writing, start again. The default refuses to lead and says why; {@code init --resnapshot}
 * and {@code snapshot.mode: when_needed} re-create the slot, and a consumer rebuilding the tables
 * from Kafka (truncate clears, snapshot rows fill) ends equal to PostgreSQL — a keyed table with
 * inserts, updates and deletes in the gap, and a keyless insert-only table. A slot re-created by
 * hand under the same name is refused too.
 */
@ExtendWith(SandboxExtension.class)
class SlotLossIT {

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void aLostSlotIsRefusedUntilInitResnapshotThenWhenNeededRecreatesItAndKafkaRebuildsEqual() throws Exception {
        String cluster = ItSupport.uniqueCluster("slotloss");
        String keyed = "public." + cluster + "_orders";
        String keyless = "public." + cluster + "_log";
        sandbox.postgres().execute(
                "CREATE TABLE " + keyed + " (id bigint PRIMARY KEY, v text NOT NULL)",
                "CREATE TABLE " + keyless + " (n int NOT NULL, note text)",
                "INSERT INTO " + keyed + " SELECT g, 'seed' FROM generate_series(1, 200) g",
                "INSERT INTO " + keyless + " SELECT g, 'seed' FROM generate_series(1, 300) g");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(keyed, keyless).snapshot("initial", 100);
        String slot = configs.slot();
        try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
            String url = "http://127.0.0.1:" + agentPort(agent);
            writeSome(keyed, keyless, 1_000, 100);
            ItSupport.await("the initial snapshot and the writes in Kafka", Duration.ofSeconds(90),
                    () -> rebuiltEqual(cluster, keyed, keyless));
            agent.stop(30); // SIGTERM: commits, flushes the slot and exits

            // The silent-loss reproduction.
            dropSlot(slot);
            writeSome(keyed, keyless, 2_000, 50);
            sandbox.postgres().execute("DELETE FROM " + keyed + " WHERE id <= 20", "UPDATE " + keyed + " SET v = 'gap' WHERE id BETWEEN 21 AND 40");

            agent.start();
            ItSupport.await("the refusal in /status", Duration.ofSeconds(60), () -> AgentHttp.status(url)
                    .map(s -> s.path("slot").path("missing").asBoolean(false)).orElse(false));
            JsonNode status = AgentHttp.status(url).orElseThrow();
            assertThat(status.path("role").asText()).isEqualTo("standby");
            assertThat(status.path("slot").path("problem").asText()).contains(slot, "missing", "when_needed", "--resnapshot");
            assertThat(metric(url, "pgrelay_slot_missing")).isEqualTo(1.0);
            ItSupport.await("the alert", Duration.ofSeconds(30), () -> AgentHttp.status(url)
                    .map(s -> s.path("alerts").toString().contains("slot_missing")).orElse(false));
            Thread.sleep(2_000);
            assertThat(ItSupport.queryOne(sandbox, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
                    .as("no agent creates the slot on its own").isEqualTo("0");
            String log = agent.log();
            List<String> errors = log.lines().filter(l -> l.contains("ERROR") && l.contains(slot) && l.contains("missing")).toList();
            assertThat(errors).as(log).hasSize(1);
            assertThat(errors.get(0)).contains("checkpoint is at");
            assertThat(agent.isAlive()).isTrue();

            // The operator decides by hand: init --resnapshot, while the agent stays up and then leads.
            AgentProcess.CommandResult init = agent.runCommand("init", 90, "--resnapshot");
            assertThat(init.exitCode()).as(init.output()).isZero();
            assertThat(init.output()).contains("created slot " + slot, "queued a snapshot of 2 published tables");
            writeSome(keyed, keyless, 3_000, 50);
            ItSupport.await("Kafka rebuilt equal to the tables after init --resnapshot", Duration.ofSeconds(120),
                    () -> rebuiltEqual(cluster, keyed, keyless));
            assertThat(metric(url, "pgrelay_slot_missing")).isEqualTo(0.0);
            agent.stop(30); // SIGTERM: commits, flushes the slot and exits

            // The same name, re-created by hand: refused as well.
            dropSlot(slot);
            writeSome(keyed, keyless, 4_000, 50);
            sandbox.postgres().execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            agent.start();
            ItSupport.await("a slot created anew refused", Duration.ofSeconds(60), () -> AgentHttp.status(url)
                    .map(s -> s.path("slot").path("problem").asText("").contains("created anew")).orElse(false));
            agent.stop(30); // SIGTERM: commits, flushes the slot and exits

            // snapshot.mode: when_needed re-creates it by itself.
            sandbox.postgres().execute("DELETE FROM " + keyed + " WHERE id BETWEEN 41 AND 50");
            AgentProcess whenNeeded = ItSupport.startAgent(new AgentConfigs(sandbox, cluster).tables(keyed, keyless)
                    .snapshot("when_needed", 100), "agent-2");
            try (whenNeeded) {
                writeSome(keyed, keyless, 5_000, 50);
                ItSupport.await("Kafka rebuilt equal to the tables after when_needed", Duration.ofSeconds(120),
                        () -> rebuiltEqual(cluster, keyed, keyless));
                String log2 = whenNeeded.log();
                assertThat(log2).contains("WARN").contains("when_needed: creating it anew");
                assertThat(metric("http://127.0.0.1:" + agentPort(whenNeeded), "pgrelay_slot_recreated_total")).isEqualTo(1.0);
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, slot);
        }
    }

    private static double metric(String url, String name) throws Exception {
        return AgentHttp.get(url, "/metrics").body().lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElseThrow();
    }

    /** What a DBA does: pg_drop_replication_slot, once no walsender holds it. */
    private void dropSlot(String slot) throws InterruptedException {
        String active = "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'";
        ItSupport.await("slot " + slot + " released", Duration.ofSeconds(10), () -> !"t".equals(ItSupport.queryOne(sandbox, active)));
        sandbox.postgres().execute("SELECT pg_drop_replication_slot('" + slot + "')");
    }

    private static int agentPort(AgentProcess agent) throws java.io.IOException {
        String yaml = java.nio.file.Files.readString(agent.config());
        String http = yaml.lines().filter(l -> l.trim().startsWith("http:")).findFirst().orElseThrow();
        return Integer.parseInt(http.substring(http.lastIndexOf(':') + 1).trim().replaceAll("[^0-9]", ""));
    }

    private void writeSome(String keyed, String keyless, int from, int count) throws SQLException {
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
            for (int i = from; i < from + count; i++) {
                s.execute("INSERT INTO " + keyed + " VALUES (" + i + ", 'v" + i + "')");
                s.execute("INSERT INTO " + keyless + " VALUES (" + i + ", 'n" + i + "')");
            }
            s.execute("UPDATE " + keyed + " SET v = v || '+' WHERE id % 7 = 0");
        }
    }

    /** Rebuilds both tables from their topics as a consumer would, and compares them with PostgreSQL. */
    private boolean rebuiltEqual(String cluster, String keyed, String keyless) {
        Map<String, String> expectedKeyed = new HashMap<>();
        Map<String, Integer> expectedKeyless = new HashMap<>();
        try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT id, v FROM " + keyed)) {
                while (rs.next()) {
                    expectedKeyed.put(rs.getString(1), rs.getString(2));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT n, note FROM " + keyless)) {
                while (rs.next()) {
                    expectedKeyless.merge(rs.getString(1) + "|" + rs.getString(2), 1, Integer::sum);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> rebuiltKeyed = new HashMap<>();
        List<ConsumerRecord<String, String>> keylessRecords = new ArrayList<>();
        try (TopicReader r = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + keyed, cluster + "." + keyless)) {
            List<ConsumerRecord<String, String>> records = new ArrayList<>(r.drain(Duration.ofMillis(1500)));
            for (ConsumerRecord<String, String> rec : records) {
                if (rec.value() == null) {
                    continue;   // tombstone
                }
                if (!rec.topic().endsWith(keyed)) {
                    keylessRecords.add(rec);
                    continue;
                }
                JsonNode e = ItSupport.json(rec.value());
                switch (e.path("op").asText()) {
                    case "truncate" -> rebuiltKeyed.clear();
                    case "delete" -> rebuiltKeyed.remove(e.path("before").path("id").asText());
                    default -> rebuiltKeyed.put(e.path("after").path("id").asText(), e.path("after").path("v").asText());
                }
            }
        }
        Map<String, Integer> rebuiltKeyless = KeylessRebuild.rebuild(keylessRecords,
                a -> a.path("n").asText() + "|" + a.path("note").asText());
        return rebuiltKeyed.equals(expectedKeyed) && rebuiltKeyless.equals(expectedKeyless);
    }
}
