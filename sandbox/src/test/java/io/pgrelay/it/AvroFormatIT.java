package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.common.tls.TestCa;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.server.Ports;
import io.pgrelay.sandbox.server.SchemaRegistry;
import io.apicurio.registry.utils.converter.AvroConverter;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code format: debezium} with {@code serialization: avro} through a real agent and a real schema
 * registry (Apicurio Registry's Confluent API, {@link SchemaRegistry}): every record is read as a
 * consumer with Confluent's wire format reads it — magic byte, schema id, the schema fetched by id
 * from the registry, Avro's GenericDatumReader — and as Kafka Connect reads it (Apicurio's
 * AvroConverter, Connect data with Debezium's schemas) — and the registry's bad days (down, refusing a
 * schema as incompatible, or refusing the agent's credentials where it enforces HTTP basic auth) stop
 * the rows, never lose them.
 */
@ExtendWith(SandboxExtension.class)
class AvroFormatIT {

    private static final String REGISTRY_PASSWORD = "registry-s3cret-pw";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Sandbox sandbox = Sandbox.shared();
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final Map<Integer, Schema> schemasById = new HashMap<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @Test
    void everyRecordDecodesWithTheSchemaTheRegistryHoldsForItsId() throws Exception {
        SchemaRegistry registry = SchemaRegistry.start();
        cleanup.add(registry);
        String cluster = ItSupport.uniqueCluster("avro");
        String table = "public." + cluster + "_all";
        String keyless = "public." + cluster + "_nokey";
        StringBuilder create = new StringBuilder("CREATE TABLE " + table + " (id int4 PRIMARY KEY");
        StringBuilder cols = new StringBuilder("id");
        StringBuilder vals = new StringBuilder("1");
        for (String[] c : DebeziumFormatIT.COLUMNS) {
            create.append(", ").append(c[0]).append(' ').append(c[1]);
            cols.append(", ").append(c[0]);
            vals.append(", ").append(c[2]);
        }
        sandbox.postgres().execute(create.append(")").toString(),
                "ALTER TABLE " + table + " ALTER COLUMN c_big SET STORAGE EXTERNAL",
                "CREATE TABLE " + keyless + " (a int4, b text)", "ALTER TABLE " + keyless + " REPLICA IDENTITY FULL");
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + table, "DROP TABLE IF EXISTS " + keyless));
        // basic auth as configured (this registry does not ask for it): the password must show nowhere
        AgentConfigs configs = avroAgent(cluster, "url: '" + registry.url() + "', username: relay, password: '" + REGISTRY_PASSWORD + "'",
                table, keyless);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        AgentProcess agent = ItSupport.startAgent(configs, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));

        sandbox.postgres().execute(
                "INSERT INTO " + table + " (" + cols + ") VALUES (" + vals + ")",
                "INSERT INTO " + table + " (id) VALUES (2)",
                "UPDATE " + table + " SET c_int4 = 7 WHERE id = 1",            // c_big: unchanged TOAST
                "DELETE FROM " + table + " WHERE id = 2",
                "INSERT INTO " + keyless + " VALUES (1, 'x')",
                "UPDATE " + keyless + " SET b = 'y' WHERE a = 1",
                "DELETE FROM " + keyless + " WHERE a = 1",
                "ALTER TABLE " + table + " ADD COLUMN c_added int8",           // a new shape: a new schema version
                "INSERT INTO " + table + " (id, c_added) VALUES (3, 42)");

        String topic = cluster + "." + table;
        String keylessTopic = cluster + "." + keyless;
        List<ConsumerRecord<byte[], byte[]>> records = read(List.of(topic, keylessTopic), 9, Duration.ofSeconds(60));
        assertThat(records).as(agent.log()).hasSize(9);
        List<GenericRecord> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            assertThat(r.headers().lastHeader("pgrelay.epoch")).isNotNull();
            assertThat(r.headers().lastHeader("pgrelay.lsn")).isNotNull();
            if (r.key() != null) {
                GenericRecord key = decode(registry, r.key());
                assertThat(key.getSchema().getFullName()).isEqualTo(r.topic() + ".Key");
                assertThat(key.getSchema().getProp("connect.name")).isEqualTo(r.topic() + ".Key");
            }
            values.add(r.value() == null ? null : decode(registry, r.value()));
        }

        List<Integer> main = indexesOf(records, topic);
        assertThat(main).hasSize(6);   // c, c, u, d, tombstone, c

        // Kafka Connect's view: Apicurio's AvroConverter turns every record into Connect data, with
        // Debezium's Connect schemas back (names, versions, semantic types), as JsonConverter does for json-schema
        List<Struct> connect = new ArrayList<>();
        try (AvroConverter keyConverter = converter(registry, true); AvroConverter valueConverter = converter(registry, false)) {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                if (r.key() != null) {
                    SchemaAndValue key = keyConverter.toConnectData(r.topic(), r.key());
                    assertThat(key.schema().name()).isEqualTo(r.topic() + ".Key");
                }
                SchemaAndValue v = valueConverter.toConnectData(r.topic(), r.value());
                connect.add(v == null ? null : (Struct) v.value());
            }
        }
        Struct connectInsert = connect.get(main.get(0));
        assertThat(connectInsert.schema().name()).isEqualTo(topic + ".Envelope");
        assertThat(connectInsert.schema().version()).isEqualTo(2);
        Struct connectAfter = connectInsert.getStruct("after");
        assertThat(connectAfter.schema().field("c_tstz").schema().name()).isEqualTo("io.debezium.time.ZonedTimestamp");
        assertThat(connectAfter.schema().field("c_int2").schema().type()).isEqualTo(org.apache.kafka.connect.data.Schema.Type.INT16);
        assertThat(connectAfter.get("c_int2")).isEqualTo((short) 32767);
        assertThat((BigDecimal) connectAfter.get("c_num_scale")).isEqualTo(new BigDecimal("-1234.500"));
        assertThat(connectAfter.getStruct("c_numeric").schema().name()).isEqualTo("io.debezium.data.VariableScaleDecimal");
        assertThat(connectAfter.getArray("c_int4_arr")).containsExactly(1, null, 3);
        assertThat(connectInsert.getStruct("source").schema().field("snapshot").schema().defaultValue()).isEqualTo("false");

        GenericRecord insert = values.get(main.get(0));
        assertThat(insert.getSchema().getFullName()).isEqualTo(topic + ".Envelope");
        assertThat(insert.getSchema().getProp("connect.name")).isEqualTo(topic + ".Envelope");
        assertThat(insert.get("op").toString()).isEqualTo("c");
        assertThat(insert.get("before")).isNull();
        GenericRecord after = (GenericRecord) insert.get("after");
        assertThat(after.get("c_int2")).isEqualTo(32767);
        assertThat(after.get("c_int8")).isEqualTo(Long.MAX_VALUE);
        assertThat(decimal(after.get("c_num_scale"), 3)).isEqualTo(new BigDecimal("-1234.500"));
        GenericRecord vsd = (GenericRecord) after.get("c_numeric");
        assertThat(vsd.getSchema().getFullName()).isEqualTo("io.debezium.data.VariableScaleDecimal");
        assertThat(decimal(vsd.get("value"), (Integer) vsd.get("scale")))
                .isEqualTo(new BigDecimal("123456789012345678901234567890.123456789"));
        assertThat(decimal(after.get("c_money"), 2)).isEqualTo(new BigDecimal("1234.56"));
        assertThat(after.get("c_float4")).isEqualTo(3.5f);
        assertThat(after.get("c_text").toString()).isEqualTo("quote \" backslash \\ newline \n \u00fc");
        assertThat(after.get("c_ts")).isEqualTo(micros("2026-11-22T10:15:30.123456"));
        assertThat(after.get("c_ts3")).isEqualTo(micros("2026-11-22T10:15:30.123") / 1000);
        assertThat(after.get("c_tstz").toString()).isEqualTo("2026-11-22T04:45:30.500000Z");
        assertThat(after.get("c_time")).isEqualTo(86_399_999_999L);
        assertThat(after.get("c_time3")).isEqualTo(43_200_500);
        assertThat(after.get("c_date")).isEqualTo((int) java.time.LocalDate.parse("2026-11-22").toEpochDay());
        assertThat(after.get("c_interval")).isEqualTo((long) (((((14 * (365.25 / 12) + 3) * 24 + 4) * 60 + 5) * 60 + 6.789) * 1e6));
        assertThat(bytes(after.get("c_bytea"))).containsExactly(0x00, 0xff, 0x10);
        @SuppressWarnings("unchecked")
        List<Object> ints = (List<Object>) after.get("c_int4_arr");
        assertThat(ints).containsExactly(1, null, 3);
        assertThat(((List<?>) after.get("c_text_arr")).stream().map(v -> v == null ? null : v.toString()))
                .containsExactly("a,b", null, "q\"");
        assertThat(after.get("c_uuid").toString()).isEqualTo("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assertThat(after.get("c_bool")).isEqualTo(true);
        GenericRecord source = (GenericRecord) insert.get("source");
        assertThat(source.get("connector").toString()).isEqualTo("postgresql");
        assertThat(source.get("name").toString()).isEqualTo(cluster);
        assertThat(source.get("snapshot").toString()).isEqualTo("false");
        assertThat(source.get("table").toString()).isEqualTo(cluster + "_all");

        GenericRecord update = values.get(main.get(2));
        assertThat(update.get("op").toString()).isEqualTo("u");
        assertThat(((GenericRecord) update.get("after")).get("c_int4")).isEqualTo(7);
        assertThat(((GenericRecord) update.get("after")).get("c_big").toString()).isEqualTo("__debezium_unavailable_value");
        GenericRecord delete = values.get(main.get(3));
        assertThat(delete.get("op").toString()).isEqualTo("d");
        assertThat(((GenericRecord) delete.get("before")).get("id")).isEqualTo(2);
        assertThat(delete.get("after")).isNull();
        assertThat(records.get(main.get(4)).value()).as("tombstone").isNull();
        assertThat(records.get(main.get(4)).key()).isEqualTo(records.get(main.get(3)).key());

        // The new shape: a second version of the value subject, registered before the row that needs it.
        GenericRecord added = values.get(main.get(5));
        assertThat(((GenericRecord) added.get("after")).get("c_added")).isEqualTo(42L);
        assertThat(schemaId(records.get(main.get(5)).value())).isNotEqualTo(schemaId(records.get(main.get(0)).value()));
        assertThat(registry.get("/subjects/" + topic + "-value/versions").body()).isEqualTo("[1,2]");
        assertThat(registry.get("/subjects/" + topic + "-key/versions").body()).isEqualTo("[1]");

        List<Integer> nokey = indexesOf(records, keylessTopic);
        assertThat(nokey).hasSize(3);   // no key, so no tombstone
        assertThat(nokey).allSatisfy(i -> assertThat(records.get(i).key()).isNull());
        GenericRecord fullUpdate = values.get(nokey.get(1));
        assertThat(((GenericRecord) fullUpdate.get("before")).get("b").toString()).isEqualTo("x");
        assertThat(((GenericRecord) fullUpdate.get("after")).get("b").toString()).isEqualTo("y");
        assertThat(registry.get("/subjects").body()).contains("\"" + keylessTopic + "-value\"")
                .doesNotContain("\"" + keylessTopic + "-key\"");

        assertThat(agent.log()).as("the registry's password is a secret").doesNotContain(REGISTRY_PASSWORD);
    }

    @Test
    void aSchemaTheRegistryRefusesStopsTheLeaderAndTheSlotDoesNotMove() throws Exception {
        SchemaRegistry registry = SchemaRegistry.start();
        cleanup.add(registry);
        String cluster = ItSupport.uniqueCluster("avroinc");
        String table = table(cluster, "id int4 PRIMARY KEY, v int4");
        String topic = cluster + "." + table;
        AgentConfigs configs = avroAgent(cluster, "url: '" + registry.url() + "'", table);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        AgentProcess agent = ItSupport.startAgent(configs, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (1, 10)");
        assertThat(read(List.of(topic), 1, Duration.ofSeconds(60))).as(agent.log()).hasSize(1);

        // The subject's owner asks for BACKWARD compatibility; the table then changes a column's type.
        assertThat(registry.put("/config/" + topic + "-value", "{\"compatibility\":\"BACKWARD\"}").statusCode()).isEqualTo(200);
        sandbox.postgres().execute("ALTER TABLE " + table + " ALTER COLUMN v TYPE text");
        Lsn beforeRow = Lsn.parse(ItSupport.queryOne(sandbox, "SELECT pg_current_wal_lsn()"));
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (2, 'twenty')");

        ItSupport.await("the agent stopped", Duration.ofSeconds(60), () -> !agent.isAlive());
        List<String> errors = agent.log().lines().filter(l -> l.contains(" ERROR ")).toList();
        System.out.println("AvroFormatIT: the refusal as the agent logs it: " + errors);
        assertThat(errors).as(agent.log()).anySatisfy(line -> assertThat(line).contains("slot " + configs.slot() + ": schema registry "
                + registry.url() + " refused the new schema of subject " + topic + "-value as incompatible",
                "the first row of " + table, "(HTTP 409)"));
        assertThat(Lsn.parse(confirmedFlushLsn(configs.slot()))).as("the slot did not move past the refused row")
                .isLessThanOrEqualTo(beforeRow);
        assertThat(read(List.of(topic), 2, Duration.ofSeconds(3))).as("nothing written after the refusal").hasSize(1);
        assertThat(registry.get("/subjects/" + topic + "-value/versions").body()).isEqualTo("[1]");

        // The owner relaxes the rule: a new agent writes the row that waited, once.
        assertThat(registry.put("/config/" + topic + "-value", "{\"compatibility\":\"NONE\"}").statusCode()).isEqualTo(200);
        AgentProcess again = ItSupport.startAgent(configs, "agent-2");
        cleanup.add(again);
        List<ConsumerRecord<byte[], byte[]>> records = read(List.of(topic), 2, Duration.ofSeconds(60));
        assertThat(records).as(again.log()).hasSize(2);
        assertThat(((GenericRecord) decode(registry, records.get(1).value()).get("after")).get("v").toString()).isEqualTo("twenty");
        assertThat(read(List.of(topic), 3, Duration.ofSeconds(3))).hasSize(2);
    }

    @Test
    void aRegistryDownLongerThanItsRetryTimeoutStopsTheLeaderAndStreamingResumesOnceWhenItIsBack() throws Exception {
        int port = Ports.free();
        String url = "http://127.0.0.1:" + port + "/apis/ccompat/v7";
        String cluster = ItSupport.uniqueCluster("avrodown");
        String table = table(cluster, "id int4 PRIMARY KEY, note text");
        String topic = cluster + "." + table;
        AgentConfigs configs = avroAgent(cluster, "url: '" + url + "', username: relay, password: '" + REGISTRY_PASSWORD
                + "', retryTimeout: 4s", table);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        AgentProcess agent = ItSupport.startAgent(configs, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
        String confirmedBefore = confirmedFlushLsn(configs.slot());
        for (int id = 1; id <= 3; id++) {
            sandbox.postgres().execute("INSERT INTO " + table + " VALUES (" + id + ", 'while the registry is down')");
        }

        // Within retryTimeout the leader retries, and the slot does not move.
        long outageStart = System.nanoTime();
        while (System.nanoTime() - outageStart < Duration.ofSeconds(3).toNanos()) {
            assertThat(agent.isAlive()).as("the agent retries within retryTimeout\n" + agent.log()).isTrue();
            assertThat(confirmedFlushLsn(configs.slot())).as("the slot does not move while the registry is down").isEqualTo(confirmedBefore);
            Thread.sleep(250);
        }
        // Past it, the leader stops with one clear error, and the slot still has not moved.
        ItSupport.await("the agent stopped", Duration.ofSeconds(90), () -> !agent.isAlive());
        assertThat(agent.stop(1)).as("exit status of a fatal failure").isEqualTo(1);
        String log = agent.log();
        List<String> retries = log.lines().filter(l -> l.contains(" WARN ") && l.contains("schema registry")).toList();
        List<String> errors = log.lines().filter(l -> l.contains(" ERROR ")).toList();
        System.out.printf("AvroFormatIT: %d retries, then: %s%n", retries.size(), errors);
        assertThat(retries).as(log).isNotEmpty().allSatisfy(line -> assertThat(line).contains(
                "slot " + configs.slot() + ": schema registry " + url + " could not register subject " + topic + "-key",
                "the first row of " + table, "; retrying in "));
        assertThat(errors).as(log).anySatisfy(line -> assertThat(line).contains(
                "slot " + configs.slot() + ": schema registry " + url + " has been unreachable or failing for ",
                "(kafka.schemaRegistry.retryTimeout: 4s); the leader stops: could not register subject " + topic + "-key",
                "the first row of " + table, "the slot stays before it"));
        assertThat(log).as("the registry's password is a secret").doesNotContain(REGISTRY_PASSWORD);
        assertThat(confirmedFlushLsn(configs.slot())).as("the slot did not move").isEqualTo(confirmedBefore);
        assertThat(read(List.of(topic), 1, Duration.ofSeconds(3))).as("nothing written").isEmpty();

        // The registry is back; the agent is started again (as a supervisor would): every row once.
        try (SchemaRegistry registry = SchemaRegistry.start(port)) {
            AgentProcess again = ItSupport.startAgent(configs, "agent-2");
            cleanup.add(again);
            List<ConsumerRecord<byte[], byte[]>> records = read(List.of(topic), 3, Duration.ofSeconds(90));
            assertThat(records).as(again.log()).hasSize(3);
            assertThat(afterValues(registry, records, "id")).containsExactly(1, 2, 3);
            assertThat(again.isAlive()).isTrue();
            again.stop(15);
        }
    }

    @Test
    void aRegistryThatEnforcesBasicAuthTakesTheRightPasswordAndAWrongOneStopsTheLeaderLosingNothing() throws Exception {
        SchemaRegistry registry = SchemaRegistry.startWithBasicAuth("relay", REGISTRY_PASSWORD);
        cleanup.add(registry);
        String wrongPassword = "wrong-" + REGISTRY_PASSWORD;
        // the registry itself asks: no credentials, or wrong ones, are 401 before any agent runs
        assertThat(anonymousOrAs(registry, null).statusCode()).as("without credentials").isEqualTo(401);
        assertThat(anonymousOrAs(registry, "relay:" + wrongPassword).statusCode()).as("a wrong password").isEqualTo(401);
        assertThat(registry.get("/subjects").statusCode()).as("the right one").isEqualTo(200);

        String cluster = ItSupport.uniqueCluster("avroauth");
        String table = table(cluster, "id int4 PRIMARY KEY, note text");
        String topic = cluster + "." + table;
        AgentConfigs wrong = avroAgent(cluster, "url: '" + registry.url() + "', username: relay, password: '" + wrongPassword + "'", table);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, wrong.slot()));
        int wrongPort = ItSupport.freePort();
        AgentProcess agent = AgentProcess.start("agent-1", wrong.yaml("agent-1", wrongPort));
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, wrong.slot(), Duration.ofSeconds(30));
        String wrongStatus = agentGet(wrongPort, "/status");
        String confirmedBefore = confirmedFlushLsn(wrong.slot());
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (1, 'one')", "INSERT INTO " + table + " VALUES (2, 'two')");

        // The wrong password: the leader stops at the first row with one clear error; nothing written, the slot still.
        List<String> errors = errorsOnceStopped(agent, Duration.ofSeconds(60), "a wrong registry password as the agent logs it");
        String log = agent.log();
        assertThat(errors).as(log).anySatisfy(line -> assertThat(line).contains("slot " + wrong.slot() + ": schema registry "
                + registry.url() + " refused the credentials of kafka.schemaRegistry (subject " + topic + "-key) (for the first row of "
                + table + " in this shape, at LSN ").endsWith(") (HTTP 401)"));
        assertThat(confirmedFlushLsn(wrong.slot())).as("the slot did not move").isEqualTo(confirmedBefore);
        assertThat(read(List.of(topic), 1, Duration.ofSeconds(3))).as("nothing written").isEmpty();
        assertThat(registry.get("/subjects").body()).as("nothing registered").isEqualTo("[]");
        AgentProcess.CommandResult check = agent.runCommand("check", 60);
        assertThat(check.exitCode()).as(check.output()).isEqualTo(1);
        assertThat(check.output()).contains("FAIL  schema registry: " + registry.url()
                + " refused the credentials of kafka.schemaRegistry (HTTP 401)").doesNotContain(wrongPassword);

        // The right password: a new agent on the same slot writes every row once, and the next ones.
        AgentConfigs right = avroAgent(cluster, "url: '" + registry.url() + "', username: relay, password: '" + REGISTRY_PASSWORD + "'", table);
        int rightPort = ItSupport.freePort();
        AgentProcess again = AgentProcess.start("agent-2", right.yaml("agent-2", rightPort));
        cleanup.add(again);
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (3, 'three')");
        List<ConsumerRecord<byte[], byte[]>> records = read(List.of(topic), 3, Duration.ofSeconds(60));
        assertThat(records).as(again.log()).hasSize(3);
        List<Object> ids = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            assertThat(((GenericRecord) decode(registry, r.key())).get("id")).isEqualTo(ids.size() + 1);
            GenericRecord after = (GenericRecord) decode(registry, r.value()).get("after");
            ids.add(after.get("id"));
        }
        assertThat(ids).containsExactly(1, 2, 3);
        assertThat(registry.get("/subjects/" + topic + "-value/versions").body()).isEqualTo("[1]");
        String rightStatus = agentGet(rightPort, "/status");
        assertThat(again.isAlive()).isTrue();
        again.stop(15);

        for (String secret : List.of(REGISTRY_PASSWORD, wrongPassword)) {
            assertThat(agent.log() + again.log()).as("the registry's password is a secret: the logs").doesNotContain(secret);
            assertThat(wrongStatus + rightStatus).as("the registry's password is a secret: /status").doesNotContain(secret);
        }
    }

    @Test
    void aRegistryUserWithoutWriteAccessIsRefusedWith403AndTheLeaderStopsLosingNothing() throws Exception {
        String viewerPassword = "viewer-" + REGISTRY_PASSWORD;
        SchemaRegistry registry = SchemaRegistry.startWithBasicAuth("relay", REGISTRY_PASSWORD, "viewer", viewerPassword);
        cleanup.add(registry);
        // the registry itself: the viewer reads, and may not register
        assertThat(anonymousOrAs(registry, "viewer:" + viewerPassword).statusCode()).as("the viewer reads").isEqualTo(200);
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(registry.url() + "/subjects/probe-value/versions"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("viewer:" + viewerPassword)
                        .getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"schema\":\"\\\"string\\\"\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).as("the viewer registers: " + post.body()).isEqualTo(403);

        String cluster = ItSupport.uniqueCluster("avro403");
        String table = table(cluster, "id int4 PRIMARY KEY, note text");
        String topic = cluster + "." + table;
        AgentConfigs viewer = avroAgent(cluster, "url: '" + registry.url() + "', username: viewer, password: '" + viewerPassword + "'", table);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, viewer.slot()));
        AgentProcess agent = ItSupport.startAgent(viewer, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, viewer.slot(), Duration.ofSeconds(30));
        String confirmedBefore = confirmedFlushLsn(viewer.slot());
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (1, 'one')");

        List<String> errors = errorsOnceStopped(agent, Duration.ofSeconds(60), "a registry user without write access, as the agent logs it");
        String log = agent.log();
        assertThat(errors).as(log).anySatisfy(line -> assertThat(line).contains("slot " + viewer.slot() + ": schema registry "
                + registry.url() + " does not let kafka.schemaRegistry's user register subject " + topic + "-key",
                "(permission denied: it needs write access to the subject)", "(HTTP 403)"));
        assertThat(log).as("the registry's password is a secret").doesNotContain(viewerPassword);
        assertThat(confirmedFlushLsn(viewer.slot())).as("the slot did not move").isEqualTo(confirmedBefore);
        assertThat(read(List.of(topic), 1, Duration.ofSeconds(3))).as("nothing written").isEmpty();
        assertThat(registry.get("/subjects").body()).as("nothing registered").isEqualTo("[]");
    }

    @Test
    void anHttpsRegistryIsTrustedThroughItsCaAndAnotherCaStopsTheLeaderNamingTheCertificateLosingNothing() throws Exception {
        TestCa ca = TestCa.create("registry-ca");
        cleanup.add(ca);
        TestCa otherCa = TestCa.create("other-ca");
        cleanup.add(otherCa);
        SchemaRegistry registry = SchemaRegistry.startWithTls(ca, ca.server("registry", "registry", "127.0.0.1"));
        cleanup.add(registry);
        assertThat(registry.url()).startsWith("https://127.0.0.1:");
        assertThat(registry.get("/subjects").statusCode()).as("the registry answers over HTTPS").isEqualTo(200);

        String cluster = ItSupport.uniqueCluster("avrotls");
        String table = table(cluster, "id int4 PRIMARY KEY, note text");
        String topic = cluster + "." + table;
        // Trusting another CA: the registry's certificate is refused at every try; past retryTimeout the leader stops.
        AgentConfigs wrong = avroAgent(cluster, "url: '" + registry.url() + "', retryTimeout: 3s, tls: { ca: '"
                + otherCa.certificate() + "' }", table);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, wrong.slot()));
        AgentProcess agent = ItSupport.startAgent(wrong, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, wrong.slot(), Duration.ofSeconds(30));
        String confirmedBefore = confirmedFlushLsn(wrong.slot());
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (1, 'one')", "INSERT INTO " + table + " VALUES (2, 'two')");

        List<String> errors = errorsOnceStopped(agent, Duration.ofSeconds(90), "an https registry whose CA the agent does not trust, as the agent logs it");
        String log = agent.log();
        assertThat(errors).as(log).anySatisfy(line -> assertThat(line).contains(
                "slot " + wrong.slot() + ": schema registry " + registry.url() + " has been unreachable or failing for ",
                "could not register subject " + topic + "-key",
                "TLS handshake failed: certificate CN=registry (issued by CN=registry-ca) is not signed by the CA in "
                        + otherCa.certificate(), "(kafka.schemaRegistry.tls)"));
        assertThat(confirmedFlushLsn(wrong.slot())).as("the slot did not move").isEqualTo(confirmedBefore);
        assertThat(read(List.of(topic), 1, Duration.ofSeconds(3))).as("nothing written").isEmpty();
        assertThat(registry.get("/subjects").body()).as("nothing registered").isEqualTo("[]");
        AgentProcess.CommandResult check = agent.runCommand("check", 60);
        System.out.println("AvroFormatIT: check against an https registry with another CA:\n" + check.output());
        assertThat(check.exitCode()).as(check.output()).isEqualTo(1);
        assertThat(check.output()).contains("FAIL  schema registry: " + registry.url() + " cannot be reached: TLS handshake failed:"
                + " certificate CN=registry (issued by CN=registry-ca) is not signed by the CA in " + otherCa.certificate());

        // Its own CA: a new agent on the same slot writes every row once, the schema registered over HTTPS.
        AgentConfigs right = avroAgent(cluster, "url: '" + registry.url() + "', tls: { ca: '" + ca.certificate() + "' }", table);
        AgentProcess again = ItSupport.startAgent(right, "agent-2");
        cleanup.add(again);
        List<ConsumerRecord<byte[], byte[]>> records = read(List.of(topic), 2, Duration.ofSeconds(60));
        assertThat(records).as(again.log()).hasSize(2);
        assertThat(afterValues(registry, records, "note")).map(String::valueOf).containsExactly("one", "two");
        assertThat(registry.get("/subjects/" + topic + "-value/versions").body()).isEqualTo("[1]");
        AgentProcess.CommandResult checkRight = again.runCommand("check", 60);
        assertThat(checkRight.output()).as(checkRight.output()).contains("OK    schema registry: " + registry.url()
                + " answered; 2 subject(s)");
        assertThat(again.isAlive()).isTrue();
        again.stop(15);
    }

    /**
     * Waits for {@code agent} to stop on a fatal error (exit status 1) and returns its ERROR lines,
     * printed as {@code what} for the test's report.
     */
    private static List<String> errorsOnceStopped(AgentProcess agent, Duration within, String what) throws Exception {
        ItSupport.await("the agent stopped", within, () -> !agent.isAlive());
        assertThat(agent.stop(1)).as("exit status of a fatal failure").isEqualTo(1);
        List<String> errors = agent.log().lines().filter(l -> l.contains(" ERROR ")).toList();
        System.out.println("AvroFormatIT: " + what + ": " + errors);
        return errors;
    }

    /** GET {@code /subjects} with no credentials, or with {@code userInfo} as HTTP basic auth. */
    private static HttpResponse<String> anonymousOrAs(SchemaRegistry registry, String userInfo) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(registry.url() + "/subjects")).timeout(Duration.ofSeconds(5));
        if (userInfo != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8)));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String agentGet(int port, String path) throws Exception {
        AgentHttp.Response response = AgentHttp.get("http://127.0.0.1:" + port, path);
        assertThat(response.status()).as(path + ": " + response.body()).isEqualTo(200);
        return response.body();
    }

    /** {@code public.<cluster>_t} with these columns, dropped after the test. */
    private String table(String cluster, String columns) {
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (" + columns + ")");
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + table));
        return table;
    }

    /** Debezium's envelope in avro, with {@code registry} as the inside of {@code kafka.schemaRegistry: { … }}. */
    private AgentConfigs avroAgent(String cluster, String registry, String... tables) {
        return new AgentConfigs(sandbox, cluster).tables(tables)
                .kafka("format: debezium").kafka("serialization: avro")
                .kafka("schemaRegistry: { " + registry + " }");
    }

    /** {@code column} of each record's {@code after}, decoded as {@link #decode} does. */
    private List<Object> afterValues(SchemaRegistry registry, List<ConsumerRecord<byte[], byte[]>> records, String column)
            throws Exception {
        List<Object> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            values.add(((GenericRecord) decode(registry, r.value()).get("after")).get(column));
        }
        return values;
    }

    /** The value as Confluent's deserializer reads it: magic byte 0, the id, the schema the registry holds for the id. */
    private GenericRecord decode(SchemaRegistry registry, byte[] record) throws Exception {
        assertThat(record[0]).as("magic byte").isEqualTo((byte) 0);
        int id = schemaId(record);
        Schema schema = schemasById.get(id);
        if (schema == null) {
            HttpResponse<String> r = registry.get("/schemas/ids/" + id);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode body = ItSupport.json(r.body());
            schema = new Schema.Parser().parse(body.get("schema").asText());
            schemasById.put(id, schema);
        }
        return new GenericDatumReader<GenericRecord>(schema).read(null,
                DecoderFactory.get().binaryDecoder(record, 5, record.length - 5, null));
    }

    /** Apicurio's Kafka Connect AvroConverter reading the Confluent wire format: ids are Apicurio's content ids. */
    private static AvroConverter converter(SchemaRegistry registry, boolean isKey) {
        AvroConverter c = new AvroConverter();
        c.configure(Map.of("apicurio.registry.url", registry.apicurioUrl(),
                "apicurio.registry.as-confluent", "true",
                "apicurio.registry.use-id", "contentId",
                "apicurio.registry.headers.enabled", "false"), isKey);
        return c;
    }

    private static int schemaId(byte[] record) {
        return ByteBuffer.wrap(record, 1, 4).getInt();
    }

    private static BigDecimal decimal(Object avroBytes, int scale) {
        return new BigDecimal(new BigInteger(bytes(avroBytes)), scale);
    }

    private static byte[] bytes(Object avroBytes) {
        ByteBuffer b = ((ByteBuffer) avroBytes).duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static long micros(String localDateTime) {
        LocalDateTime t = LocalDateTime.parse(localDateTime);
        return t.toEpochSecond(ZoneOffset.UTC) * 1_000_000 + t.getNano() / 1000;
    }

    private static List<Integer> indexesOf(List<ConsumerRecord<byte[], byte[]>> records, String topic) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            if (records.get(i).topic().equals(topic)) {
                out.add(i);
            }
        }
        return out;
    }

    private String confirmedFlushLsn(String slot) {
        return ItSupport.queryOne(sandbox, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    /** Reads the topics from the start (read_committed) until {@code count} records or the timeout; then a short drain. */
    private List<ConsumerRecord<byte[], byte[]>> read(List<String> topics, int count, Duration timeout) throws InterruptedException {
        Map<String, Object> props = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                List<PartitionInfo> infos;
                // the agent creates a topic before a table's first record: wait for it
                while ((infos = consumer.partitionsFor(topic, Duration.ofSeconds(2))) == null || infos.isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        return out;
                    }
                    Thread.sleep(200);
                }
                infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (out.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            for (int quiet = 0; quiet < 3; quiet++) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
