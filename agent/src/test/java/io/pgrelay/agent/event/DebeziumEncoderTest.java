package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Begin;
import io.pgrelay.agent.pgoutput.CapturedMessages;
import io.pgrelay.agent.pgoutput.CapturedMessages.Captured;
import io.pgrelay.agent.pgoutput.Delete;
import io.pgrelay.agent.pgoutput.Insert;
import io.pgrelay.agent.pgoutput.PgMessage;
import io.pgrelay.agent.pgoutput.PgOutputDecoder;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.pgoutput.Update;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The debezium format on captured pgoutput messages, read back with Kafka Connect's own JsonConverter. */
class DebeziumEncoderTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static DebeziumEncoder encoder(boolean schemas, FormatConfig.Debezium settings) {
        return new DebeziumEncoder(settings, schemas, "demo", "app", t -> "demo." + t.schema() + "." + t.table(),
                BuiltinTypes.CATALOG);
    }

    private static JsonConverter converter(boolean schemas, boolean isKey) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", Boolean.toString(schemas)), isKey);
        return c;
    }

    static ChangeEvent captured(String file) {
        PgOutputDecoder decoder = new PgOutputDecoder();
        Begin begin = null;
        Relation relation = null;
        for (Captured c : CapturedMessages.read(file)) {
            PgMessage m = decoder.decode(c.buffer());
            if (m instanceof Begin b) {
                begin = b;
            } else if (m instanceof Relation r) {
                relation = r;
            } else if (m instanceof Insert i) {
                return event(Op.INSERT, relation, null, i.newTuple(), c.lsn(), begin);
            } else if (m instanceof Update u) {
                return event(Op.UPDATE, relation, u.oldTuple(), u.newTuple(), c.lsn(), begin);
            } else if (m instanceof Delete d) {
                return event(Op.DELETE, relation, d.oldTuple(), null, c.lsn(), begin);
            }
        }
        throw new IllegalArgumentException("no row change in " + file);
    }

    private static ChangeEvent event(Op op, Relation relation, TupleData before, TupleData after, Lsn lsn, Begin begin) {
        return new ChangeEvent(op, relation, before, after, lsn, begin.finalLsn(), begin.xid(), 0,
                ChangeEvent.unixMicros(begin.commitTimeMicros()));
    }

    private static Struct decode(byte[] value, String topic) {
        SchemaAndValue data = converter(true, false).toConnectData(topic, value);
        return (Struct) data.value();
    }

    @Test
    void insertIsAnOpCEnvelopeThatJsonConverterReads() throws Exception {
        ChangeEvent insert = captured("insert.hex");
        byte[] value = encoder(true, FormatConfig.Debezium.DEFAULT).value(insert);

        Struct envelope = decode(value, "demo.public.sample");
        assertThat(envelope.schema().name()).isEqualTo("demo.public.sample.Envelope");
        assertThat(envelope.schema().version()).isEqualTo(2);
        assertThat(envelope.getString("op")).isEqualTo("c");
        assertThat(envelope.get("before")).isNull();
        Struct after = envelope.getStruct("after");
        assertThat(after.schema().name()).isEqualTo("demo.public.sample.Value");
        assertThat(after.get("id")).isEqualTo(1L);
        assertThat(after.schema().field("seen").schema().name()).isEqualTo("io.debezium.time.ZonedTimestamp");
        assertThat(after.getString("seen")).isEqualTo("2026-11-22T10:15:30.123456Z");
        assertThat(after.schema().field("local_ts").schema().name()).isEqualTo("io.debezium.time.MicroTimestamp");
        assertThat(after.getInt64("local_ts")).isEqualTo(java.time.LocalDateTime.parse("2026-11-22T10:15:30.5")
                .toEpochSecond(java.time.ZoneOffset.UTC) * 1_000_000 + 500_000);
        assertThat(after.schema().field("born").schema().name()).isEqualTo("io.debezium.time.Date");
        assertThat(after.getInt32("born")).isEqualTo((int) java.time.LocalDate.parse("2026-11-22").toEpochDay());
        assertThat(after.schema().field("doc").schema().name()).isEqualTo("io.debezium.data.Json");
        assertThat(after.getArray("tags")).containsExactly("one", "two, three", null, "with \"quote\"");
        assertThat(after.getBytes("data")).containsExactly(0xde, 0xad, 0xbe, 0xef);
        assertThat(after.getString("uid")).isEqualTo("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        Object price = after.get("price");
        if (after.schema().field("price").schema().name() != null
                && after.schema().field("price").schema().name().equals(Decimal.LOGICAL_NAME)) {
            assertThat((BigDecimal) price).isEqualByComparingTo("1234.500");
            assertThat(((BigDecimal) price).scale()).isEqualTo(3);
        } else {
            Struct vsd = (Struct) price;
            assertThat(vsd.getInt32("scale")).isEqualTo(3);
            assertThat(new BigDecimal(new java.math.BigInteger(vsd.getBytes("value")), 3)).isEqualByComparingTo("1234.500");
        }
        Struct source = envelope.getStruct("source");
        assertThat(source.schema().name()).isEqualTo("io.debezium.connector.postgresql.Source");
        assertThat(source.getString("connector")).isEqualTo("postgresql");
        assertThat(source.getString("name")).isEqualTo("demo");
        assertThat(source.getString("db")).isEqualTo("app");
        assertThat(source.getString("schema")).isEqualTo("public");
        assertThat(source.getString("table")).isEqualTo("sample");
        assertThat(source.getString("snapshot")).isEqualTo("false");
        assertThat(source.getInt64("txId")).isEqualTo(insert.xid());
        assertThat(source.getInt64("lsn")).isEqualTo(insert.lsn().value());
        assertThat(source.getInt64("ts_us")).isEqualTo(insert.committedAtMicros());
        assertThat(source.getString("sequence")).isEqualTo("[null,\"" + insert.lsn().value() + "\"]");
        assertThat(envelope.getInt64("ts_ms")).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));

        SchemaAndValue key = converter(true, true).toConnectData("demo.public.sample", encoder(true, FormatConfig.Debezium.DEFAULT).key(insert));
        assertThat(key.schema().name()).isEqualTo("demo.public.sample.Key");
        assertThat(((Struct) key.value()).get("id")).isEqualTo(1L);
    }

    @Test
    void withoutSchemasThePayloadIsWhatJsonConverterWritesForIt() throws Exception {
        ChangeEvent insert = captured("insert.hex");
        byte[] withSchema = encoder(true, FormatConfig.Debezium.DEFAULT).value(insert);
        byte[] plain = encoder(false, FormatConfig.Debezium.DEFAULT).value(insert);

        JsonNode payload = JSON.readTree(withSchema).get("payload");
        JsonNode bare = JSON.readTree(plain);
        ((com.fasterxml.jackson.databind.node.ObjectNode) payload).remove(List.of("ts_ms", "ts_us", "ts_ns"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) bare).remove(List.of("ts_ms", "ts_us", "ts_ns"));
        assertThat(bare).isEqualTo(payload);
        // Connect's converter, given the decoded record, writes the same payload back.
        Struct decoded = decode(withSchema, "t");
        byte[] again = converter(false, false).fromConnectData("t", decoded.schema(), decoded);
        JsonNode rewritten = JSON.readTree(again);
        ((com.fasterxml.jackson.databind.node.ObjectNode) rewritten).remove(List.of("ts_ms", "ts_us", "ts_ns"));
        assertThat(rewritten).isEqualTo(bare);
        assertThat(new String(encoder(false, FormatConfig.Debezium.DEFAULT).key(insert), StandardCharsets.UTF_8)).isEqualTo("{\"id\":1}");
    }

    @Test
    void schemaWrittenIsTheSchemaJsonConverterWritesBack() throws Exception {
        ChangeEvent insert = captured("insert.hex");
        byte[] value = encoder(true, FormatConfig.Debezium.DEFAULT).value(insert);
        Struct decoded = decode(value, "t");
        byte[] again = converter(true, false).fromConnectData("t", decoded.schema(), decoded);
        assertThat(JSON.readTree(again).get("schema")).isEqualTo(JSON.readTree(value).get("schema"));
    }

    @Test
    void updateWithUnchangedToastWritesThePlaceholder() {
        ChangeEvent update = captured("update-toast-unchanged.hex");
        Struct envelope = decode(encoder(true, FormatConfig.Debezium.DEFAULT).value(update), "t");
        assertThat(envelope.getString("op")).isEqualTo("u");
        Struct after = envelope.getStruct("after");
        boolean any = false;
        for (org.apache.kafka.connect.data.Field f : after.schema().fields()) {
            if ("__debezium_unavailable_value".equals(after.get(f))) {
                any = true;
            }
        }
        assertThat(any).as("an unchanged TOAST column carries the placeholder").isTrue();
    }

    @Test
    void fullIdentityUpdateTakesAnUnchangedToastValueFromTheOldRow() {
        // as PostgreSQL sends it under REPLICA IDENTITY FULL: the old row whole, the new one with 'u' where TOAST is unchanged
        ChangeEvent captured = captured("update-toast-unchanged.hex");
        TupleData after = captured.after();
        TupleData.Builder old = new TupleData.Builder();
        int toasted = -1;
        for (int i = 0; i < after.size(); i++) {
            if (after.isUnchangedToast(i)) {
                toasted = i;
                old.text("the big value, as it was");
            } else if (after.kind(i) == TupleData.NULL) {
                old.nul();
            } else {
                old.text(new String(after.buffer(), after.offset(i), after.length(i), StandardCharsets.UTF_8));
            }
        }
        assertThat(toasted).as("the capture has an unchanged TOAST column").isNotNegative();
        ChangeEvent full = new ChangeEvent(Op.UPDATE, captured.relation(), old.build(), after, captured.lsn(),
                captured.commitLsn(), captured.xid(), 0, captured.committedAtMicros());

        Struct envelope = decode(encoder(true, FormatConfig.Debezium.DEFAULT).value(full), "t");

        String column = captured.relation().columns().get(toasted).name();
        assertThat(envelope.getStruct("after").get(column)).isEqualTo("the big value, as it was");
        assertThat(envelope.getStruct("before").get(column)).isEqualTo("the big value, as it was");
        // without the old row (REPLICA IDENTITY DEFAULT) the placeholder stays: updateWithUnchangedToastWritesThePlaceholder
    }

    @Test
    void deleteIsOpDWithTheOldKeyAndNoAfter() {
        ChangeEvent delete = captured("insert-delete-key.hex");
        if (delete.op() != Op.DELETE) {
            return;
        }
        Struct envelope = decode(encoder(true, FormatConfig.Debezium.DEFAULT).value(delete), "t");
        assertThat(envelope.getString("op")).isEqualTo("d");
        assertThat(envelope.get("after")).isNull();
        assertThat(envelope.getStruct("before")).isNotNull();
    }

    @Test
    void fullIdentityUpdateHasTheWholeOldRowAsBefore() {
        ChangeEvent update = captured("update-identity-full.hex");
        Struct envelope = decode(encoder(true, FormatConfig.Debezium.DEFAULT).value(update), "t");
        assertThat(envelope.getString("op")).isEqualTo("u");
        Struct before = envelope.getStruct("before");
        assertThat(before.schema().fields()).allSatisfy(f -> assertThat(f.name()).isNotBlank());
        assertThat(before.schema().fields().stream().filter(f -> before.get(f) != null).count()).isGreaterThan(1);
    }

    @Test
    void unknownPrimaryKeyColumnFailsNamingTheTablesColumns() {
        DebeziumEncoder encoder = encoder(false, FormatConfig.Debezium.DEFAULT);
        encoder.setPrimaryKey(new TableId("public", "sample"), List.of("nope"));
        ChangeEvent update = captured("update-identity-full.hex");

        assertThatThrownBy(() -> encoder.value(update)).isInstanceOf(EventEncodingException.class)
                .hasMessageStartingWith("primary key column nope is not a column of public.sample (columns: [id, small,");
    }

    @Test
    void truncatesAreSkippedUnlessAskedFor() {
        assertThat(encoder(false, FormatConfig.Debezium.DEFAULT).writes(Op.TRUNCATE)).isFalse();
        FormatConfig.Debezium d = FormatConfig.Debezium.DEFAULT;
        FormatConfig.Debezium withTruncates = new FormatConfig.Debezium(d.decimalHandlingMode(), d.timePrecisionMode(),
                d.binaryHandlingMode(), d.unavailableValuePlaceholder(), true, d.sourceVersion());
        assertThat(encoder(false, withTruncates).writes(Op.TRUNCATE)).isTrue();
        assertThat(encoder(false, FormatConfig.Debezium.DEFAULT).writes(Op.DELETE)).isTrue();
    }

    @Test
    void theSchemaIsBuiltOncePerTableShapeAndIsWhatAFreshEncoderAndJsonConverterWrite() throws Exception {
        Relation shape1 = new Relation(16500, "public", "orders", 'd', List.of(
                new Relation.Column(true, "id", BuiltinTypes.INT8, -1), new Relation.Column(false, "note", BuiltinTypes.TEXT, -1)));
        Relation shape2 = new Relation(16500, "public", "orders", 'd', List.of(
                new Relation.Column(true, "id", BuiltinTypes.INT8, -1), new Relation.Column(false, "note", BuiltinTypes.TEXT, -1),
                new Relation.Column(false, "qty", BuiltinTypes.INT4, -1)));
        DebeziumEncoder cached = encoder(true, FormatConfig.Debezium.DEFAULT);
        cached.register(shape1);

        byte[] first = cached.value(insert(shape1, "1", "a"));
        byte[] second = cached.value(insert(shape1, "2", "b"));
        assertThat(schemaOf(second)).isEqualTo(schemaOf(first));
        assertThat(schemaOf(second)).as("the cached schema is the one a new encoder builds")
                .isEqualTo(schemaOf(encoder(true, FormatConfig.Debezium.DEFAULT).value(insert(shape1, "2", "b"))));
        assertThat(new String(cached.key(insert(shape1, "2", "b")), StandardCharsets.UTF_8))
                .isEqualTo(new String(encoder(true, FormatConfig.Debezium.DEFAULT).key(insert(shape1, "2", "b")), StandardCharsets.UTF_8));
        Struct decoded = decode(second, "demo.public.orders");
        byte[] rewritten = converter(true, false).fromConnectData("demo.public.orders", decoded.schema(), decoded);
        assertThat(JSON.readTree(rewritten).get("schema")).isEqualTo(JSON.readTree(second).get("schema"));
        assertThat(new String(rewritten, StandardCharsets.UTF_8)).startsWith(schemaOf(second));

        // A column added: PostgreSQL sends a new Relation before the next row; the row carries the new schema.
        byte[] third = cached.value(insert(shape2, "3", "c", "7"));
        assertThat(schemaOf(third)).isNotEqualTo(schemaOf(first)).contains("\"field\":\"qty\"")
                .isEqualTo(schemaOf(encoder(true, FormatConfig.Debezium.DEFAULT).value(insert(shape2, "3", "c", "7"))));
        assertThat(decode(third, "demo.public.orders").getStruct("after").getInt32("qty")).isEqualTo(7);
        // and back: the same relation id with the first shape again
        cached.register(shape1);
        assertThat(schemaOf(cached.value(insert(shape1, "4", "d")))).isEqualTo(schemaOf(first));
    }

    private static ChangeEvent insert(Relation relation, String... values) {
        TupleData.Builder row = TupleData.builder();
        for (String v : values) {
            row.text(v);
        }
        return new ChangeEvent(Op.INSERT, relation, null, row.build(), Lsn.parse("0/10"), Lsn.parse("0/20"), 7, 0,
                1_795_342_530_123_456L);
    }

    /** The record's {@code {"schema":…} } part, as text: everything before {@code ,"payload":}. */
    private static String schemaOf(byte[] record) {
        String text = new String(record, StandardCharsets.UTF_8);
        int payload = text.indexOf(",\"payload\":");
        assertThat(payload).as(text).isPositive();
        return text.substring(0, payload);
    }
}
