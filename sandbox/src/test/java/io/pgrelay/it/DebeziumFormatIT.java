package io.pgrelay.it;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code format: debezium} through a real agent, read by a real consumer: Kafka Connect's own
 * JsonConverter decodes every record into Connect data, as a Debezium sink would.
 */
@ExtendWith(SandboxExtension.class)
class DebeziumFormatIT {

    private final Sandbox sandbox = Sandbox.shared();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    /** name, type, a value (finite: Debezium's temporal types have no infinity). */
    static final String[][] COLUMNS = {
            {"c_int2", "int2", "32767"}, {"c_int4", "int4", "-2147483648"}, {"c_int8", "int8", "9223372036854775807"},
            {"c_numeric", "numeric", "'123456789012345678901234567890.123456789'"}, {"c_num_scale", "numeric(12,3)", "'-1234.500'"},
            {"c_float4", "float4", "'3.5'"}, {"c_float8", "float8", "'2.718281828459045'"}, {"c_money", "money", "'1234.56'"},
            {"c_text", "text", "E'quote \" backslash \\\\ newline \\n \u00fc'"}, {"c_varchar", "varchar(20)", "'v'"},
            {"c_char", "char(4)", "'ab'"}, {"c_name", "name", "'pg_name'"}, {"c_bytea", "bytea", "'\\x00ff10'"},
            {"c_bool", "bool", "true"}, {"c_json", "json", "'{\"a\": [1, 2.50]}'"}, {"c_jsonb", "jsonb", "'{\"b\": null}'"},
            {"c_int4_arr", "int4[]", "'{1,NULL,3}'"}, {"c_text_arr", "text[]", "ARRAY['a,b', NULL, 'q\"']"},
            {"c_uuid", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"}, {"c_inet", "inet", "'192.168.0.1/24'"},
            {"c_cidr", "cidr", "'10.0.0.0/8'"}, {"c_macaddr", "macaddr", "'08:00:2b:01:02:03'"},
            {"c_macaddr8", "macaddr8", "'08:00:2b:01:02:03:04:05'"}, {"c_date", "date", "'2026-11-22'"},
            {"c_time", "time", "'23:59:59.999999'"}, {"c_time3", "time(3)", "'12:00:00.5'"}, {"c_timetz", "timetz", "'12:34:56+05:30'"},
            {"c_ts", "timestamp", "'2026-11-22 10:15:30.123456'"}, {"c_ts3", "timestamp(3)", "'2026-11-22 10:15:30.123'"},
            {"c_tstz", "timestamptz", "'2026-11-22 10:15:30.5+05:30'"}, {"c_interval", "interval", "'1 year 2 mons 3 days 04:05:06.789'"},
            {"c_int4range", "int4range", "'[1,10)'"}, {"c_numrange", "numrange", "'(1.5,2.5]'"}, {"c_point", "point", "'(1.5,-2)'"},
            {"c_tsvector", "tsvector", "'a fat cat'"}, {"c_xml", "xml", "'<a>x</a>'"}, {"c_bit", "bit(8)", "B'10101010'"},
            {"c_oid", "oid", "4294967295"}, {"c_pg_lsn", "pg_lsn", "'16/3002D50'"}, {"c_bool_arr", "bool[]", "'{t,f}'"},
            {"c_float8_arr", "float8[]", "'{1.5,-0}'"}, {"c_date_arr", "date[]", "'{2026-01-31}'"},
            {"c_uuid_arr", "uuid[]", "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]"},
            {"c_big", "text", "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g)"}};

    @Test
    void everyRecordOfTheJsonSchemaSerializationDecodesWithKafkaConnectsJsonConverter() throws Exception {
        String cluster = ItSupport.uniqueCluster("dbzjs");
        String table = "public." + cluster + "_all";
        String keyless = "public." + cluster + "_nokey";
        StringBuilder create = new StringBuilder("CREATE TABLE " + table + " (id int4 PRIMARY KEY");
        StringBuilder cols = new StringBuilder("id");
        StringBuilder vals = new StringBuilder("1");
        for (String[] c : COLUMNS) {
            create.append(", ").append(c[0]).append(' ').append(c[1]);
            cols.append(", ").append(c[0]);
            vals.append(", ").append(c[2]);
        }
        sandbox.postgres().execute(create.append(")").toString(),
                "ALTER TABLE " + table + " ALTER COLUMN c_big SET STORAGE EXTERNAL",   // stored out of line, so unchanged TOAST
                "CREATE TABLE " + keyless + " (a int4, b text)", "ALTER TABLE " + keyless + " REPLICA IDENTITY FULL");
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + table, "DROP TABLE IF EXISTS " + keyless));
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table, keyless)
                .kafka("format: debezium").kafka("serialization: json-schema");
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
                "DELETE FROM " + keyless + " WHERE a = 1");

        JsonConverter keys = converter(true, true);
        JsonConverter values = converter(true, false);
        String topic = cluster + "." + table;
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic, cluster + "." + keyless)) {
            List<ConsumerRecord<String, String>> records = reader.readAtLeast(8, Duration.ofSeconds(30));
            assertThat(records).as(agent.log()).hasSize(8);
            List<Struct> decoded = new ArrayList<>();
            for (ConsumerRecord<String, String> r : records) {
                assertThat(ItSupport.header(r, "pgrelay.epoch")).isNotNull();
                assertThat(ItSupport.header(r, "pgrelay.lsn")).isNotNull();
                if (r.key() != null) {
                    SchemaAndValue key = keys.toConnectData(r.topic(), r.key().getBytes(StandardCharsets.UTF_8));
                    assertThat(key.schema().name()).isEqualTo(cluster + "." + r.topic().substring(cluster.length() + 1) + ".Key");
                }
                SchemaAndValue v = values.toConnectData(r.topic(), r.value() == null ? null : r.value().getBytes(StandardCharsets.UTF_8));
                decoded.add((Struct) v.value());
            }
            List<ConsumerRecord<String, String>> main = records.stream().filter(r -> r.topic().equals(topic)).toList();
            assertThat(main).hasSize(5);   // c, c, u, d, tombstone
            Struct insert = decoded.get(records.indexOf(main.get(0)));
            assertThat(insert.getString("op")).isEqualTo("c");
            assertThat(insert.schema().name()).isEqualTo(topic + ".Envelope");
            Struct after = insert.getStruct("after");
            assertThat((BigDecimal) after.get("c_num_scale")).isEqualTo(new BigDecimal("-1234.500"));
            Struct vsd = after.getStruct("c_numeric");
            assertThat(new BigDecimal(new java.math.BigInteger(vsd.getBytes("value")), vsd.getInt32("scale")))
                    .isEqualTo(new BigDecimal("123456789012345678901234567890.123456789"));
            assertThat((BigDecimal) after.get("c_money")).isEqualTo(new BigDecimal("1234.56"));
            assertThat(after.getInt64("c_ts")).isEqualTo(micros("2026-11-22T10:15:30.123456"));
            assertThat(after.getInt64("c_ts3")).isEqualTo(micros("2026-11-22T10:15:30.123") / 1000);
            assertThat(after.getString("c_tstz")).isEqualTo("2026-11-22T04:45:30.500000Z");
            assertThat(after.getInt64("c_time")).isEqualTo(86_399_999_999L);
            assertThat(after.getInt32("c_time3")).isEqualTo(43_200_500);
            assertThat(after.getString("c_timetz")).isEqualTo("07:04:56Z");
            assertThat(after.getInt32("c_date")).isEqualTo((int) java.time.LocalDate.parse("2026-11-22").toEpochDay());
            assertThat(after.getInt64("c_interval")).isEqualTo((long) (((((14 * (365.25 / 12) + 3) * 24 + 4) * 60 + 5) * 60 + 6.789) * 1e6));
            assertThat(after.getBytes("c_bytea")).containsExactly(0x00, 0xff, 0x10);
            assertThat(after.getArray("c_int4_arr")).containsExactly(1, null, 3);
            assertThat(after.getString("c_uuid")).isEqualTo("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
            assertThat(insert.getStruct("source").getString("snapshot")).isEqualTo("false");

            Struct update = decoded.get(records.indexOf(main.get(2)));
            assertThat(update.getString("op")).isEqualTo("u");
            assertThat(update.getStruct("after").getInt32("c_int4")).isEqualTo(7);
            assertThat(update.getStruct("after").getString("c_big")).isEqualTo("__debezium_unavailable_value");

            Struct delete = decoded.get(records.indexOf(main.get(3)));
            assertThat(delete.getString("op")).isEqualTo("d");
            assertThat(delete.getStruct("before").getInt32("id")).isEqualTo(2);
            assertThat(delete.get("after")).isNull();
            assertThat(main.get(4).value()).isNull();
            assertThat(main.get(4).key()).isEqualTo(main.get(3).key());

            List<ConsumerRecord<String, String>> nokey = records.stream().filter(r -> !r.topic().equals(topic)).toList();
            assertThat(nokey).hasSize(3);   // no key, so no tombstone
            assertThat(nokey).allSatisfy(r -> assertThat(r.key()).isNull());
            Struct fullUpdate = decoded.get(records.indexOf(nokey.get(1)));
            assertThat(fullUpdate.getStruct("before").getString("b")).isEqualTo("x");
            assertThat(fullUpdate.getStruct("after").getString("b")).isEqualTo("y");
        }
    }

    @Test
    void theJsonSerializationIsWhatJsonConverterWritesWithoutSchemas() throws Exception {
        String cluster = ItSupport.uniqueCluster("dbzj");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int8 PRIMARY KEY, price numeric(10,2), at timestamp)");
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + table));
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table).kafka("format: debezium");
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        AgentProcess agent = ItSupport.startAgent(configs, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
        sandbox.postgres().execute("INSERT INTO " + table + " VALUES (1, 12.50, '2026-01-01 00:00:01')");
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
            ConsumerRecord<String, String> r = reader.readAtLeast(1, Duration.ofSeconds(30)).get(0);
            assertThat(r.key()).as(agent.log()).isEqualTo("{\"id\":1}");
            @SuppressWarnings("unchecked")
            Map<String, Object> value = (Map<String, Object>) converter(false, false)
                    .toConnectData(r.topic(), r.value().getBytes(StandardCharsets.UTF_8)).value();
            assertThat(value.get("op")).isEqualTo("c");
            @SuppressWarnings("unchecked")
            Map<String, Object> after = (Map<String, Object>) value.get("after");
            assertThat(after.get("price")).isEqualTo("BOI=");   // 1250 as Connect Decimal bytes, base64
            assertThat(after.get("at")).isEqualTo(micros("2026-01-01T00:00:01"));
            assertThat(ItSupport.json(r.value()).has("schema")).isFalse();
        }
    }

    @Test
    void snapshotRowsAreOpRWithSourceSnapshotTrueAndStreamedRowsAfterThemFalse() throws Exception {
        String cluster = ItSupport.uniqueCluster("dbzsnap");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int4 PRIMARY KEY, note text)",
                "INSERT INTO " + table + " SELECT g, 'before the agent ' || g FROM generate_series(1, 5) g");
        cleanup.add(() -> sandbox.postgres().execute("DROP TABLE IF EXISTS " + table));
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table)
                .kafka("format: debezium").kafka("serialization: json-schema").snapshot("initial", 2);
        cleanup.add(() -> ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot()));
        AgentProcess agent = ItSupport.startAgent(configs, "agent-1");
        cleanup.add(agent);
        ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
        String topic = cluster + "." + table;
        JsonConverter values = converter(true, false);
        try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), topic)) {
            assertThat(reader.readAtLeast(5, Duration.ofSeconds(60))).as(agent.log()).hasSize(5);
            sandbox.postgres().execute("INSERT INTO " + table + " VALUES (6, 'streamed')");
            List<ConsumerRecord<String, String>> all = reader.readAtLeast(6, Duration.ofSeconds(30));
            assertThat(all).as(agent.log()).hasSize(6);
            List<ConsumerRecord<String, String>> snapshot = all.subList(0, 5);
            List<ConsumerRecord<String, String>> streamed = all.subList(5, 6);

            List<Integer> ids = new ArrayList<>();
            for (ConsumerRecord<String, String> r : snapshot) {
                Struct v = (Struct) values.toConnectData(r.topic(), r.value().getBytes(StandardCharsets.UTF_8)).value();
                assertThat(v.getString("op")).isEqualTo("r");
                assertThat(v.get("before")).isNull();
                Struct source = v.getStruct("source");
                // Debezium's io.debezium.data.Enum; pgrelay writes "true" for every snapshot row (docs/formats.md)
                assertThat(source.getString("snapshot")).isEqualTo("true");
                assertThat(source.schema().field("snapshot").schema().parameters().get("allowed").split(","))
                        .contains(source.getString("snapshot"));
                assertThat(source.getString("table")).isEqualTo(table.substring("public.".length()));
                ids.add(v.getStruct("after").getInt32("id"));
                assertThat(v.getStruct("after").getString("note")).isEqualTo("before the agent " + ids.get(ids.size() - 1));
            }
            assertThat(ids).containsExactlyInAnyOrder(1, 2, 3, 4, 5);
            Struct insert = (Struct) values.toConnectData(topic, streamed.get(0).value().getBytes(StandardCharsets.UTF_8)).value();
            assertThat(insert.getString("op")).isEqualTo("c");
            assertThat(insert.getStruct("source").getString("snapshot")).isEqualTo("false");
        }
        // json-schema's default: the repeated schemas compressed (docs/configuration.md, kafka.producer)
        assertThat(agent.log()).contains("\"producer\":{\"compression.type\":\"lz4\"}");
    }

    private static long micros(String localDateTime) {
        LocalDateTime t = LocalDateTime.parse(localDateTime);
        return t.toEpochSecond(ZoneOffset.UTC) * 1_000_000 + t.getNano() / 1000;
    }

    private static JsonConverter converter(boolean schemas, boolean isKey) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", Boolean.toString(schemas)), isKey);
        return c;
    }
}
