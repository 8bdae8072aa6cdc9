package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.pgrelay.it.ItSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What each REPLICA IDENTITY setting gives an event's key and {@code before}, and TOASTed values
 * PostgreSQL does not resend. One agent streams every table of this class (one cluster), each
 * test owns its table and topic.
 */
@ExtendWith(SandboxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicaIdentityIT {

    /** 4 MiB: room for the 1 MiB TOASTed value's insert event. */
    private static final String MAX_REQUEST_SIZE = "4194304";

    private final Sandbox sandbox = Sandbox.shared();
    private final String cluster = ItSupport.uniqueCluster("ident");
    private final List<String> tables = new ArrayList<>();
    private AgentConfigs configs;
    private AgentProcess agent;

    @BeforeAll
    void startAgentOverEveryTable() throws Exception {
        create("identity_default", "(id int PRIMARY KEY, name text, n int)", "DEFAULT");
        create("identity_full_pk", "(id int PRIMARY KEY, name text, n int)", "FULL");
        create("identity_full_no_pk", "(a int, b text)", "FULL");
        create("identity_nothing", "(id int PRIMARY KEY, v text)", "NOTHING");
        create("identity_index", "(id int PRIMARY KEY, tenant int NOT NULL, email text NOT NULL, note text)", null);
        sandbox.postgres().execute(
                "CREATE UNIQUE INDEX " + cluster + "_tenant_email ON " + table("identity_index") + " (tenant, email)",
                "ALTER TABLE " + table("identity_index") + " REPLICA IDENTITY USING INDEX " + cluster + "_tenant_email");
        create("no_pk", "(a int, b text)", "DEFAULT");
        create("key_change", "(id int PRIMARY KEY, v text)", "DEFAULT");
        create("full_twins", "(a int, b text)", "FULL");
        create("schema_no_pk", "(a int, b text)", "DEFAULT");
        create("schema_nothing", "(id int PRIMARY KEY, v text)", "NOTHING");
        create("schema_full_no_pk", "(a int, b text)", "FULL");
        create("toast", "(id int PRIMARY KEY, big text, n int)", "DEFAULT");
        // EXTERNAL: stored out of line uncompressed, so the value is certainly TOASTed.
        sandbox.postgres().execute("ALTER TABLE " + table("toast") + " ALTER big SET STORAGE EXTERNAL");

        configs = new AgentConfigs(sandbox, cluster).tables(tables.toArray(String[]::new))
                .producer("max.request.size", MAX_REQUEST_SIZE);
        agent = ItSupport.startAgent(configs, "agent-1");
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
    }

    @AfterAll
    void stopAgentAndDropEverything() throws Exception {
        try {
            if (agent != null) {
                agent.close();
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            for (String t : tables) {
                sandbox.postgres().execute("DROP TABLE IF EXISTS " + t);
            }
        }
    }

    private void create(String name, String columns, String identity) {
        String table = table(name);
        sandbox.postgres().execute("CREATE TABLE " + table + " " + columns);
        if (identity != null) {
            sandbox.postgres().execute("ALTER TABLE " + table + " REPLICA IDENTITY " + identity);
        }
        tables.add(table);
    }

    private String table(String name) {
        return "public." + cluster + "_" + name;
    }

    private List<ConsumerRecord<String, String>> read(String name, int count) throws Exception {
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table(name))) {
            List<ConsumerRecord<String, String>> records = reader.readAtLeast(count, Duration.ofSeconds(30));
            assertThat(records).as(agent.log()).hasSize(count);
            return records;
        }
    }

    @Test
    void defaultIdentityGivesTheKeyAsBefore() throws Exception {
        String t = table("identity_default");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 'a', 1)",
                "UPDATE " + t + " SET n = 2 WHERE id = 1",
                "DELETE FROM " + t + " WHERE id = 1");
        List<ConsumerRecord<String, String>> records = read("identity_default", 4);

        JsonNode update = json(records.get(1).value());
        assertThat(update.get("before")).isEqualTo(json("{\"id\":1}"));
        assertThat(update.get("after")).isEqualTo(json("{\"id\":1,\"name\":\"a\",\"n\":2}"));
        assertThat(json(records.get(1).key())).isEqualTo(json("{\"id\":1}"));
        JsonNode delete = json(records.get(2).value());
        assertThat(delete.get("op").asText()).isEqualTo("delete");
        assertThat(delete.get("before")).isEqualTo(json("{\"id\":1}"));
        assertThat(json(records.get(2).key())).isEqualTo(json("{\"id\":1}"));
        assertThat(records.get(3).value()).as("tombstone").isNull();
    }

    @Test
    void fullIdentityWithPrimaryKeyGivesWholeRowsAsBeforeAndThePrimaryKeyAsKey() throws Exception {
        String t = table("identity_full_pk");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 'a', 1)",
                "UPDATE " + t + " SET n = 2 WHERE id = 1",
                "DELETE FROM " + t + " WHERE id = 1");
        List<ConsumerRecord<String, String>> records = read("identity_full_pk", 4);

        for (ConsumerRecord<String, String> r : records) {
            assertThat(r.key()).isEqualTo("{\"id\":1}");
        }
        JsonNode insert = json(records.get(0).value());
        assertThat(insert.get("key")).isEqualTo(json("{\"id\":1}"));
        JsonNode update = json(records.get(1).value());
        assertThat(update.get("key")).isEqualTo(json("{\"id\":1}"));
        assertThat(update.get("before")).isEqualTo(json("{\"id\":1,\"name\":\"a\",\"n\":1}"));
        assertThat(update.get("after")).isEqualTo(json("{\"id\":1,\"name\":\"a\",\"n\":2}"));
        JsonNode delete = json(records.get(2).value());
        assertThat(delete.get("key")).isEqualTo(json("{\"id\":1}"));
        assertThat(delete.get("before")).isEqualTo(json("{\"id\":1,\"name\":\"a\",\"n\":2}"));
        assertThat(records.get(3).value()).as("tombstone").isNull();
    }

    /**
     * Observed and asserted: with REPLICA IDENTITY FULL and no primary key, every column is the
     * key. An update's key is built from the new row, so it differs from the key of the events
     * before it — such a row's events do not share a key (nor, with several partitions, a partition).
     */
    @Test
    void fullIdentityWithoutPrimaryKeyKeysByEveryColumn() throws Exception {
        String t = table("identity_full_no_pk");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 'x')",
                "UPDATE " + t + " SET b = 'y' WHERE a = 1",
                "DELETE FROM " + t + " WHERE a = 1");
        List<ConsumerRecord<String, String>> records = read("identity_full_no_pk", 4);

        assertThat(json(records.get(0).key())).isEqualTo(json("{\"a\":1,\"b\":\"x\"}"));
        JsonNode update = json(records.get(1).value());
        assertThat(update.get("before")).isEqualTo(json("{\"a\":1,\"b\":\"x\"}"));
        assertThat(update.get("after")).isEqualTo(json("{\"a\":1,\"b\":\"y\"}"));
        assertThat(update.get("key")).isEqualTo(json("{\"a\":1,\"b\":\"y\"}"));
        assertThat(json(records.get(1).key())).isEqualTo(json("{\"a\":1,\"b\":\"y\"}"));
        JsonNode delete = json(records.get(2).value());
        assertThat(delete.get("before")).isEqualTo(json("{\"a\":1,\"b\":\"y\"}"));
        assertThat(json(records.get(2).key())).isEqualTo(json("{\"a\":1,\"b\":\"y\"}"));
        assertThat(json(records.get(3).key())).isEqualTo(json("{\"a\":1,\"b\":\"y\"}"));
        assertThat(records.get(3).value()).as("tombstone").isNull();
    }

    @Test
    void nothingIdentityStreamsInsertsWithoutKeyAndPostgresRefusesUpdatesAndDeletes() throws Exception {
        String t = table("identity_nothing");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 'a')");
        assertThatThrownBy(() -> sandbox.postgres().execute("UPDATE " + t + " SET v = 'b' WHERE id = 1"))
                .hasMessageContaining("cannot update table")
                .hasMessageContaining("does not have a replica identity and publishes updates");
        assertThatThrownBy(() -> sandbox.postgres().execute("DELETE FROM " + t + " WHERE id = 1"))
                .hasMessageContaining("cannot delete from table")
                .hasMessageContaining("does not have a replica identity and publishes deletes");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (2, 'c')");
        List<ConsumerRecord<String, String>> records = read("identity_nothing", 2);

        for (ConsumerRecord<String, String> r : records) {
            assertThat(r.key()).isNull();
            JsonNode event = json(r.value());
            assertThat(event.get("op").asText()).isEqualTo("insert");
            assertThat(event.get("key").isNull()).isTrue();
        }
        assertThat(json(records.get(0).value()).get("after")).isEqualTo(json("{\"id\":1,\"v\":\"a\"}"));
    }

    @Test
    void usingIndexIdentityKeysByTheIndexColumns() throws Exception {
        String t = table("identity_index");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 7, 'a@x', 'first')",
                "UPDATE " + t + " SET note = 'second' WHERE id = 1",
                "UPDATE " + t + " SET email = 'b@x' WHERE id = 1",
                "DELETE FROM " + t + " WHERE id = 1");
        List<ConsumerRecord<String, String>> records = read("identity_index", 5);

        JsonNode oldKey = json("{\"tenant\":7,\"email\":\"a@x\"}");
        JsonNode newKey = json("{\"tenant\":7,\"email\":\"b@x\"}");
        assertThat(json(records.get(0).key())).isEqualTo(oldKey);
        assertThat(json(records.get(0).value()).get("key")).isEqualTo(oldKey);

        JsonNode noteChanged = json(records.get(1).value());
        assertThat(json(records.get(1).key())).isEqualTo(oldKey);
        assertThat(noteChanged.get("before")).isEqualTo(oldKey);
        assertThat(noteChanged.get("after")).isEqualTo(json("{\"id\":1,\"tenant\":7,\"email\":\"a@x\",\"note\":\"second\"}"));

        JsonNode emailChanged = json(records.get(2).value());
        assertThat(json(records.get(2).key())).isEqualTo(newKey);
        assertThat(emailChanged.get("key")).isEqualTo(newKey);
        assertThat(emailChanged.get("before")).isEqualTo(oldKey);

        JsonNode delete = json(records.get(3).value());
        assertThat(delete.get("before")).isEqualTo(newKey);
        assertThat(json(records.get(3).key())).isEqualTo(newKey);
        assertThat(json(records.get(4).key())).isEqualTo(newKey);
        assertThat(records.get(4).value()).as("tombstone").isNull();
    }

    @Test
    void tableWithoutPrimaryKeyStreamsInsertsWithNullKey() throws Exception {
        String t = table("no_pk");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 'x')", "INSERT INTO " + t + " VALUES (1, 'x')");
        List<ConsumerRecord<String, String>> records = read("no_pk", 2);

        for (ConsumerRecord<String, String> r : records) {
            assertThat(r.key()).isNull();
            JsonNode event = json(r.value());
            assertThat(event.get("key").isNull()).isTrue();
            assertThat(event.get("after")).isEqualTo(json("{\"a\":1,\"b\":\"x\"}"));
        }
        // Default identity without a primary key is no identity: PostgreSQL refuses the update.
        assertThatThrownBy(() -> sandbox.postgres().execute("UPDATE " + t + " SET b = 'y'"))
                .hasMessageContaining("does not have a replica identity and publishes updates");
    }

    /**
     * With REPLICA IDENTITY FULL and no primary key, two identical rows share one key: deleting one
     * of them gives a delete and a tombstone under that key, which, once the topic is compacted,
     * also removes the other row's record. Documented in design.md.
     */
    @Test
    void fullIdentityWithoutPrimaryKeyGivesIdenticalRowsOneKey() throws Exception {
        String t = table("full_twins");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (7, 'same')", "INSERT INTO " + t + " VALUES (7, 'same')",
                "DELETE FROM " + t + " WHERE ctid = (SELECT min(ctid) FROM " + t + " WHERE a = 7)");
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + t)) {
            List<ConsumerRecord<String, String>> sevens = reader.readUntil(
                    r -> r.stream().filter(x -> x.key() != null && x.key().contains("7")).count() >= 4, Duration.ofSeconds(30))
                    .stream().filter(x -> x.key() != null && x.key().contains("7")).toList();
            assertThat(sevens).as(agent.log()).hasSize(4);
            JsonNode key = json("{\"a\":7,\"b\":\"same\"}");
            for (ConsumerRecord<String, String> r : sevens) {
                assertThat(json(r.key())).isEqualTo(key);
            }
            assertThat(json(sevens.get(2).value()).get("op").asText()).isEqualTo("delete");
            assertThat(sevens.get(3).value()).as("tombstone").isNull();
        }
    }

    /** What consumers learn about keys from the schema topic: the key flags of the Relation message. */
    @Test
    void schemaEventsShowWhichColumnsIdentifyARow() throws Exception {
        sandbox.postgres().execute("INSERT INTO " + table("schema_no_pk") + " VALUES (9, 'schema')",
                "INSERT INTO " + table("schema_nothing") + " VALUES (9, 'schema')",
                "INSERT INTO " + table("schema_full_no_pk") + " VALUES (9, 'schema')");
        Map<String, JsonNode> last = new java.util.HashMap<>();
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "._schema")) {
            reader.readUntil(records -> {
                records.forEach(r -> last.put(r.key(), json(r.value())));
                return last.keySet().containsAll(List.of(table("schema_no_pk"), table("schema_nothing"),
                        table("schema_full_no_pk")));
            }, Duration.ofSeconds(30));
        }
        assertThat(keyFlags(last.get(table("schema_no_pk")))).isEqualTo("default a=false b=false");
        assertThat(keyFlags(last.get(table("schema_nothing")))).isEqualTo("nothing id=false v=false");
        assertThat(keyFlags(last.get(table("schema_full_no_pk")))).isEqualTo("full a=true b=true");
    }

    private static String keyFlags(JsonNode schemaEvent) {
        StringBuilder s = new StringBuilder(schemaEvent.get("replicaIdentity").asText());
        schemaEvent.get("columns").forEach(c -> s.append(' ').append(c.get("name").asText()).append('=').append(c.get("key").asBoolean()));
        return s.toString();
    }

    @Test
    void keyChangingUpdateCarriesTheOldKeyInBeforeAndTheNewKeyAsKey() throws Exception {
        String t = table("key_change");
        sandbox.postgres().execute("INSERT INTO " + t + " VALUES (1, 'v')", "UPDATE " + t + " SET id = 2 WHERE id = 1");
        List<ConsumerRecord<String, String>> records = read("key_change", 2);

        JsonNode update = json(records.get(1).value());
        assertThat(update.get("op").asText()).isEqualTo("update");
        assertThat(update.get("before")).isEqualTo(json("{\"id\":1}"));
        assertThat(update.get("key")).isEqualTo(json("{\"id\":2}"));
        assertThat(update.get("after")).isEqualTo(json("{\"id\":2,\"v\":\"v\"}"));
        assertThat(records.get(1).key()).isEqualTo("{\"id\":2}");
    }

    @Test
    void unchangedToastedValueIsLeftOutOfAfterAndNamedInUnchanged() throws Exception {
        String t = table("toast");
        // 1 MiB of hex digits: the insert's event is larger than Kafka's default 1 MiB record limit.
        sandbox.postgres().execute(
                "INSERT INTO " + t + " SELECT 1, string_agg(md5(i::text), '') , 1 FROM generate_series(1, 32768) AS i",
                "UPDATE " + t + " SET n = 2 WHERE id = 1");
        String big = ItSupport.queryOne(sandbox, "SELECT big FROM " + t + " WHERE id = 1");
        assertThat(big).hasSize(1 << 20);
        List<ConsumerRecord<String, String>> records = read("toast", 2);

        assertThat(records.get(0).value().length()).isGreaterThan(1 << 20);
        JsonNode insert = json(records.get(0).value());
        assertThat(insert.get("after").get("big").asText()).isEqualTo(big);
        assertThat(insert.get("unchanged")).isEqualTo(json("[]"));

        JsonNode update = json(records.get(1).value());
        assertThat(update.get("after")).isEqualTo(json("{\"id\":1,\"n\":2}"));
        assertThat(update.get("after").has("big")).isFalse();
        assertThat(update.get("unchanged")).isEqualTo(json("[\"big\"]"));

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers()))) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, cluster + "." + t);
            Config config = admin.describeConfigs(Set.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic);
            assertThat(config.get("max.message.bytes").value()).isEqualTo(MAX_REQUEST_SIZE);
        }
    }
}
