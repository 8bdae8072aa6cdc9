package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.pgrelay.it.ItSupport.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Columns added, dropped, renamed and retyped while rows are written without pause, with the DDL
 * event trigger of {@code init --ddl} installed, and the agent SIGKILLed and stopped in between.
 * Everything is checked by position {@code (commitLsn, seq)}, the order in which a
 * {@code read_committed} consumer must apply the schema topic and the table's topic together.
 */
@ExtendWith(SandboxExtension.class)
class SchemaChangeIT {

    private final Sandbox sandbox = Sandbox.shared();

    /** A record of either topic, placed in the stream. */
    private record Placed(String topic, long offset, String commitLsn, long seq, String opHeader, JsonNode event) {
        static final Comparator<Placed> STREAM_ORDER = Comparator
                .comparing((Placed p) -> Lsn.parse(p.commitLsn)).thenComparingLong(Placed::seq)
                // at one position a schema event comes before the row it describes
                .thenComparing(p -> "schema".equals(p.event.get("op").asText()) ? 0 : 1);
    }

    @Test
    void everyRowMatchesTheSchemaEventBeforeItAcrossAddDropRenameRetypeAndRestarts() throws Exception {
        String cluster = ItSupport.uniqueCluster("schema");
        String table = "public." + cluster + "_t";
        String schemaTopic = cluster + "._schema";
        String dataTopic = cluster + "." + table;
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, a text, b int)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()));
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger inserted = new AtomicInteger();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        Thread writer = null;
        try {
            AgentProcess.CommandResult init = agent.runCommand("init", 60, "--ddl");
            assertThat(init.exitCode()).as(init.output()).isZero();
            assertThat(init.output()).contains("created event trigger " + configs.slot() + "_ddl");
            AgentProcess.CommandResult again = agent.runCommand("init", 60, "--ddl");
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(again.output()).contains("was in place");
            agent.start();
            ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(60));

            writer = new Thread(() -> {
                try (Connection c = sandbox.postgres().connect();
                     PreparedStatement insert = c.prepareStatement("INSERT INTO " + table + " (id) VALUES (?)");
                     PreparedStatement update = c.prepareStatement("UPDATE " + table + " SET id = id WHERE id = ?")) {
                    for (int id = 1; writing.get(); id++) {
                        insert.setInt(1, id);
                        insert.executeUpdate();
                        inserted.set(id);
                        if (id % 7 == 0) {
                            update.setInt(1, id - 3);
                            update.executeUpdate();
                        }
                        Thread.sleep(5);
                    }
                } catch (Throwable t) {
                    writerFailure.set(t);
                }
            }, "writer");
            writer.start();

            pause();
            sandbox.postgres().execute("ALTER TABLE " + table + " ADD COLUMN c text DEFAULT 'x'");
            pause();
            sandbox.postgres().execute("ALTER TABLE " + table + " DROP COLUMN a");
            pause();
            agent.kill(); // mid-stream; the restarted agent must not publish the unchanged shape again
            agent.start();
            pause();
            sandbox.postgres().execute("ALTER TABLE " + table + " RENAME COLUMN b TO bb");
            pause();
            sandbox.postgres().execute("ALTER TABLE " + table + " ALTER COLUMN bb TYPE bigint");
            pause();
            try (Connection c = sandbox.postgres().connect(); Statement s = c.createStatement()) {
                // DDL and a row that needs it in one transaction: DDL event, schema event, row, in that order
                c.setAutoCommit(false);
                s.execute("ALTER TABLE " + table + " ADD COLUMN d int");
                s.execute("INSERT INTO " + table + " (id, d) VALUES (-1, 42)");
                c.commit();
            }
            pause();
            agent.stop(30); // SIGTERM: commits, flushes the slot and exits
            agent.start();
            pause();
            writing.set(false);
            writer.join(10_000);
            assertThat(writerFailure.get()).isNull();
            int rows = inserted.get() + 1; // the writer's rows and -1

            List<Placed> stream = new ArrayList<>();
            try (TopicReader data = new TopicReader(sandbox.kafka().bootstrapServers(), dataTopic)) {
                long inserts = 0;
                List<ConsumerRecord<String, String>> read = data.readUntil(
                        r -> r.stream().filter(x -> x.value() != null && x.value().contains("\"op\":\"insert\"")).count() >= rows,
                        Duration.ofSeconds(120));
                for (ConsumerRecord<String, String> r : data.drain(Duration.ofSeconds(2))) {
                    if (r.value() != null) {
                        stream.add(placed(r));
                    }
                }
                inserts = stream.stream().filter(p -> p.event.get("op").asText().equals("insert")).count();
                assertThat(inserts).as("inserts (each exactly once); read " + read.size() + "\n" + agent.log()).isEqualTo(rows);
                assertThat(stream.stream().filter(p -> p.event.get("op").asText().equals("insert"))
                        .map(p -> p.event.get("after").get("id").asInt()).distinct().count()).isEqualTo(rows);
            }
            List<Placed> schemaTopicRecords = new ArrayList<>();
            try (TopicReader schemas = new TopicReader(sandbox.kafka().bootstrapServers(), schemaTopic)) {
                for (ConsumerRecord<String, String> r : schemas.drain(Duration.ofSeconds(3))) {
                    schemaTopicRecords.add(placed(r));
                }
            }
            List<Placed> schemaEvents = schemaTopicRecords.stream()
                    .filter(p -> p.event.get("op").asText().equals("schema") && p.event.get("table").asText().equals(table)).toList();
            List<Placed> ddlEvents = schemaTopicRecords.stream()
                    .filter(p -> p.event.get("op").asText().equals("ddl") && p.event.get("ddl").asText().contains(table)).toList();
            String summary = schemaTopicRecords.stream().map(p -> p.offset + " " + p.commitLsn + "#" + p.seq + " " + p.event)
                    .reduce("", (x, y) -> x + "\n" + y);

            // One schema event per shape: the first sight and five changes, none again after the kill or the stop.
            assertThat(schemaEvents.stream().map(p -> columns(p.event.get("columns"))).toList()).as(summary).containsExactly(
                    List.of("id", "a", "b"),
                    List.of("id", "a", "b", "c"),
                    List.of("id", "b", "c"),
                    List.of("id", "bb", "c"),
                    List.of("id", "bb", "c"),
                    List.of("id", "bb", "c", "d"));
            assertThat(schemaEvents.get(0).event.get("previous").isNull()).isTrue();
            assertThat(changes(schemaEvents.get(1))).containsExactly("added c");
            assertThat(changes(schemaEvents.get(2))).containsExactly("dropped a");
            assertThat(changes(schemaEvents.get(3))).containsExactly("renamed bb");
            assertThat(changes(schemaEvents.get(4))).containsExactly("retyped bb");
            assertThat(schemaEvents.get(4).event.get("columns").get(1).get("type").asText()).isEqualTo("int8");
            assertThat(changes(schemaEvents.get(5))).containsExactly("added d");
            for (Placed p : schemaEvents) {
                assertThat(p.event.get("cluster").asText()).isEqualTo(cluster);
                assertThat(p.opHeader).isEqualTo("schema");
            }

            // The DDL text, once each, in order, each before the schema event it causes and after the one before.
            assertThat(ddlEvents.stream().map(p -> p.event.get("tag").asText() + ": " + p.event.get("ddl").asText()).toList())
                    .as(summary).containsExactly(
                            "ALTER TABLE: ALTER TABLE " + table + " ADD COLUMN c text DEFAULT 'x'",
                            "ALTER TABLE: ALTER TABLE " + table + " DROP COLUMN a",
                            "ALTER TABLE: ALTER TABLE " + table + " RENAME COLUMN b TO bb",
                            "ALTER TABLE: ALTER TABLE " + table + " ALTER COLUMN bb TYPE bigint",
                            "ALTER TABLE: ALTER TABLE " + table + " ADD COLUMN d int");
            for (int i = 0; i < ddlEvents.size(); i++) {
                assertThat(Placed.STREAM_ORDER.compare(schemaEvents.get(i), ddlEvents.get(i))).as("schema event %d before DDL %d", i, i).isNegative();
                assertThat(Placed.STREAM_ORDER.compare(ddlEvents.get(i), schemaEvents.get(i + 1))).as("DDL %d before schema event %d", i, i + 1).isNegative();
            }
            assertThat(ddlEvents.get(0).event.get("objects").get(0).get("identity").asText()).isEqualTo(table);
            // The last DDL shares its transaction with the row that needs it.
            assertThat(ddlEvents.get(4).commitLsn).isEqualTo(schemaEvents.get(5).commitLsn);
            // The schema topic is one partition: its offsets follow the stream order.
            List<Placed> byOffset = new ArrayList<>(schemaTopicRecords);
            List<Placed> byPosition = new ArrayList<>(schemaTopicRecords);
            byPosition.sort(Placed.STREAM_ORDER);
            assertThat(byPosition).isEqualTo(byOffset);

            // Every row event matches the last schema event at or before its position.
            List<Placed> merged = new ArrayList<>(stream);
            merged.addAll(schemaEvents);
            merged.sort(Placed.STREAM_ORDER);
            List<String> inForce = null;
            Map<List<String>, Integer> rowsPerShape = new HashMap<>();
            for (Placed p : merged) {
                String op = p.event.get("op").asText();
                if (op.equals("schema")) {
                    inForce = columns(p.event.get("columns"));
                    continue;
                }
                assertThat(inForce).as("a schema event before the first row, at %s#%d", p.commitLsn, p.seq).isNotNull();
                JsonNode after = p.event.get("after");
                if (after != null && !after.isNull()) {
                    List<String> keys = new ArrayList<>();
                    after.fieldNames().forEachRemaining(keys::add);
                    assertThat(keys).as("%s at %s#%d: %s", op, p.commitLsn, p.seq, p.event).isEqualTo(inForce);
                    rowsPerShape.merge(inForce, 1, Integer::sum);
                }
            }
            System.out.printf("SchemaChangeIT: %d rows, %d schema events, %d DDL events; rows per shape %s%n",
                    rows, schemaEvents.size(), ddlEvents.size(), rowsPerShape);
            assertThat(rowsPerShape).hasSize(5); // the retype changes no column name; every shape had rows
        } finally {
            writing.set(false);
            if (writer != null) {
                writer.join(10_000);
            }
            agent.close();
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            AgentProcess teardown = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()));
            AgentProcess.CommandResult down = teardown.runCommand("teardown", 60);
            teardown.close();
            assertThat(down.output()).contains("dropped event trigger " + configs.slot() + "_ddl");
            assertThat(ItSupport.queryOne(sandbox, "SELECT count(*) FROM pg_event_trigger WHERE evtname = '" + configs.slot() + "_ddl'"))
                    .isEqualTo("0");
            sandbox.postgres().execute("DROP TABLE IF EXISTS " + table);
        }
    }

    private static Placed placed(ConsumerRecord<String, String> r) {
        JsonNode e = json(r.value());
        assertThat(ItSupport.header(r, "pgrelay.commit-lsn")).isEqualTo(e.get("commitLsn").asText());
        assertThat(ItSupport.header(r, "pgrelay.seq")).isEqualTo(e.get("seq").asText());
        return new Placed(r.topic(), r.offset(), e.get("commitLsn").asText(), e.get("seq").asLong(), ItSupport.header(r, "pgrelay.op"), e);
    }

    private static List<String> columns(JsonNode columns) {
        List<String> names = new ArrayList<>();
        columns.forEach(c -> names.add(c.get("name").asText()));
        return names;
    }

    private static List<String> changes(Placed schemaEvent) {
        List<String> out = new ArrayList<>();
        schemaEvent.event.get("changes").forEach(c -> out.add(c.get("change").asText() + " " + c.get("column").asText()));
        return out;
    }

    /** Long enough for the writer to put rows of the current shape through. */
    private static void pause() throws InterruptedException {
        Thread.sleep(1500);
    }
}
