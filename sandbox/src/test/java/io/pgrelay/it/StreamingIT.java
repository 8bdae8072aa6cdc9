package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static io.pgrelay.it.ItSupport.header;
import static io.pgrelay.it.ItSupport.json;
import static org.assertj.core.api.Assertions.assertThat;

/** One agent process against the real servers: what arrives in Kafka for each kind of change. */
@ExtendWith(SandboxExtension.class)
class StreamingIT {

    private final Sandbox sandbox = Sandbox.shared();
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

    private AgentProcess agent(AgentConfigs configs) throws Exception {
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot())); // runs after the agent stopped
        AgentProcess agent = closeLater(ItSupport.startAgent(configs, "agent-1"));
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
        return agent;
    }

    @Test
    void everyOpArrivesAsTheDesignedEvent() throws Exception {
        String cluster = ItSupport.uniqueCluster("ops");
        String table = "public." + cluster + "_orders";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, status text)");
        AgentProcess agent = agent(new AgentConfigs(sandbox, cluster).tables(table));

        sandbox.postgres().execute(
                "INSERT INTO " + table + " VALUES (42, 'new')",
                "UPDATE " + table + " SET status = 'paid' WHERE id = 42",
                "DELETE FROM " + table + " WHERE id = 42",
                "TRUNCATE " + table);

        String topic = cluster + "." + table;
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic)) {
            List<ConsumerRecord<String, String>> records = reader.readAtLeast(5, Duration.ofSeconds(30));
            assertThat(records).as(agent.log()).hasSize(5);

            JsonNode insert = json(records.get(0).value());
            assertThat(insert.get("op").asText()).isEqualTo("insert");
            assertThat(insert.get("table").asText()).isEqualTo(table);
            assertThat(insert.get("key")).isEqualTo(json("{\"id\":42}"));
            assertThat(insert.get("before").isNull()).isTrue();
            assertThat(insert.get("after")).isEqualTo(json("{\"id\":42,\"status\":\"new\"}"));
            assertThat(insert.get("unchanged")).isEqualTo(json("[]"));
            assertThat(insert.get("seq").asLong()).isZero();
            assertThat(insert.get("cluster").asText()).isEqualTo(cluster);
            assertThat(insert.get("committedAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
            assertThat(records.get(0).key()).isEqualTo("{\"id\":42}");
            assertThat(header(records.get(0), "pgrelay.op")).isEqualTo("insert");
            assertThat(header(records.get(0), "pgrelay.commit-lsn")).isEqualTo(insert.get("commitLsn").asText());
            assertThat(header(records.get(0), "pgrelay.lsn")).isEqualTo(insert.get("lsn").asText());
            assertThat(header(records.get(0), "pgrelay.seq")).isEqualTo("0");
            assertThat(header(records.get(0), "pgrelay.agent")).isEqualTo("agent-1");
            assertThat(header(records.get(0), "pgrelay.epoch")).matches("\\d+");

            JsonNode update = json(records.get(1).value());
            assertThat(update.get("op").asText()).isEqualTo("update");
            assertThat(update.get("before")).isEqualTo(json("{\"id\":42}"));
            assertThat(update.get("after")).isEqualTo(json("{\"id\":42,\"status\":\"paid\"}"));

            JsonNode delete = json(records.get(2).value());
            assertThat(delete.get("op").asText()).isEqualTo("delete");
            assertThat(delete.get("before")).isEqualTo(json("{\"id\":42}"));
            assertThat(delete.get("after").isNull()).isTrue();
            assertThat(records.get(3).key()).isEqualTo("{\"id\":42}");
            assertThat(records.get(3).value()).as("tombstone after delete").isNull();

            JsonNode truncate = json(records.get(4).value());
            assertThat(truncate.get("op").asText()).isEqualTo("truncate");
            assertThat(truncate.get("key").isNull()).isTrue();
            assertThat(truncate.get("before").isNull()).isTrue();
            assertThat(truncate.get("after").isNull()).isTrue();
            assertThat(records.get(4).key()).isNull();

            assertThat(Lsns.positions(records)).isSorted();
        }
    }

    @Test
    void transactionAcrossThreeTablesKeepsCommitOrder() throws Exception {
        String cluster = ItSupport.uniqueCluster("three");
        String a = "public." + cluster + "_a";
        String b = "public." + cluster + "_b";
        String c = "public." + cluster + "_c";
        for (String t : List.of(a, b, c)) {
            sandbox.postgres().execute("CREATE TABLE " + t + " (id int PRIMARY KEY, step int)");
        }
        agent(new AgentConfigs(sandbox, cluster).tables(a, b, c));
        StringBuilder txn = new StringBuilder("BEGIN;");
        String[] order = new String[30];
        for (int i = 0; i < 30; i++) {
            String t = List.of(a, b, c).get((i * 7) % 3);
            order[i] = t;
            txn.append("INSERT INTO ").append(t).append(" VALUES (").append(i).append(", ").append(i).append(");");
        }
        txn.append("COMMIT;");
        sandbox.postgres().execute(txn.toString(), "INSERT INTO " + b + " VALUES (1000, 30)");

        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(),
                cluster + "." + a, cluster + "." + b, cluster + "." + c)) {
            List<ConsumerRecord<String, String>> records = new ArrayList<>(reader.readAtLeast(31, Duration.ofSeconds(30)));
            assertThat(records).hasSize(31);
            records.sort(Comparator.comparing(Lsns::position));
            for (int i = 0; i < 30; i++) {
                JsonNode e = json(records.get(i).value());
                assertThat(e.get("seq").asInt()).isEqualTo(i);
                assertThat(e.get("table").asText()).isEqualTo(order[i]);
                assertThat(e.get("after").get("step").asInt()).isEqualTo(i);
            }
            JsonNode last = json(records.get(30).value());
            assertThat(Lsns.position(records.get(30))).isGreaterThan(Lsns.position(records.get(29)));
            assertThat(last.get("seq").asInt()).isZero();
        }
    }

    @Test
    void eachKeysEventsStayInOrderOnOnePartition() throws Exception {
        String cluster = ItSupport.uniqueCluster("keys");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, version int)");
        agent(new AgentConfigs(sandbox, cluster).tables(table).kafka("partitions: 4"));
        for (int round = 0; round < 20; round++) {
            StringBuilder sql = new StringBuilder("BEGIN;");
            for (int id = 0; id < 10; id++) {
                sql.append(round == 0 ? "INSERT INTO " + table + " VALUES (" + id + ", 0);"
                        : "UPDATE " + table + " SET version = " + round + " WHERE id = " + id + ";");
            }
            sandbox.postgres().execute(sql.append("COMMIT;").toString());
        }
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
            List<ConsumerRecord<String, String>> records = reader.readAtLeast(200, Duration.ofSeconds(30));
            assertThat(records).hasSize(200);
            Map<String, Integer> partitionOfKey = new HashMap<>();
            Map<String, Integer> lastVersion = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                assertThat(partitionOfKey.computeIfAbsent(r.key(), k -> r.partition())).isEqualTo(r.partition());
            }
            assertThat(new HashSet<>(partitionOfKey.values())).as("partitions the 10 keys went to (of 4)").hasSizeGreaterThan(1);
            // records of one partition come in offset order: each key's versions must rise 0..19
            records.stream().sorted(Comparator.comparingInt((ConsumerRecord<String, String> r) -> r.partition())
                    .thenComparingLong(ConsumerRecord::offset)).forEach(r -> {
                int v = json(r.value()).get("after").get("version").asInt();
                Integer last = lastVersion.put(r.key(), v);
                assertThat(v).isEqualTo(last == null ? 0 : last + 1);
            });
        }
    }
}
