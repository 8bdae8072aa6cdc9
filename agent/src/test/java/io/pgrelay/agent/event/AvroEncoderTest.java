package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.pgoutput.Relation;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * serialization avro on captured pgoutput messages: the Confluent wire format, the schemas
 * AvroConverter would register for Debezium's Connect schemas, and every value equal to what
 * JsonConverter reads from the json-schema serialization of the same row. The registry here is a
 * list of registrations; AvroFormatIT runs a real one.
 */
class AvroEncoderTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What was registered, in order: subject → schema text; ids are positions from 1. */
    private final List<Map.Entry<String, String>> registered = new ArrayList<>();

    private int register(String subject, String schema, String context) {
        registered.add(Map.entry(subject, schema));
        return registered.size();
    }

    private AvroEncoder encoder() {
        return new AvroEncoder(DebeziumEncoderTest.encoder(false, FormatConfig.Debezium.DEFAULT), this::register,
                t -> "demo." + t.schema() + "." + t.table());
    }

    private Schema schemaOf(byte[] record) {
        assertThat(record[0]).as("magic byte").isEqualTo((byte) 0);
        int id = ByteBuffer.wrap(record, 1, 4).getInt();
        assertThat(id).isBetween(1, registered.size());
        return new Schema.Parser().parse(registered.get(id - 1).getValue());
    }

    private GenericRecord decode(byte[] record) throws Exception {
        Schema schema = schemaOf(record);
        return new GenericDatumReader<GenericRecord>(schema).read(null,
                DecoderFactory.get().binaryDecoder(record, 5, record.length - 5, null));
    }

    private static Struct jsonSchemaValue(ChangeEvent event) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", "true"), false);
        SchemaAndValue data = c.toConnectData("t", DebeziumEncoderTest.encoder(true, FormatConfig.Debezium.DEFAULT).value(event));
        return (Struct) data.value();
    }

    @Test
    void insertIsTheConfluentWireFormatWithEveryValueAsJsonConverterReadsIt() throws Exception {
        ChangeEvent insert = DebeziumEncoderTest.captured("insert.hex");
        AvroEncoder encoder = encoder();

        byte[] key = encoder.key(insert);
        byte[] value = encoder.value(insert);

        assertThat(registered).extracting(Map.Entry::getKey).containsExactly("demo.public.sample-key", "demo.public.sample-value");
        assertThat(ByteBuffer.wrap(key, 1, 4).getInt()).isEqualTo(1);
        assertThat(ByteBuffer.wrap(value, 1, 4).getInt()).isEqualTo(2);
        assertThat(decode(key).get("id")).isEqualTo(1L);

        GenericRecord envelope = decode(value);
        Struct expected = jsonSchemaValue(insert);
        assertThat(envelope.get("op").toString()).isEqualTo("c");
        assertThat(envelope.get("before")).isNull();
        GenericRecord after = (GenericRecord) envelope.get("after");
        Struct expectedAfter = expected.getStruct("after");
        for (Field f : expectedAfter.schema().fields()) {
            assertThat(plain(after.get(f.name()))).as(f.name()).isEqualTo(plain(expectedAfter.get(f)));
        }
        GenericRecord source = (GenericRecord) envelope.get("source");
        Struct expectedSource = expected.getStruct("source");
        for (Field f : expectedSource.schema().fields()) {
            assertThat(plain(source.get(f.name()))).as("source." + f.name()).isEqualTo(plain(expectedSource.get(f)));
        }
    }

    /** Avro's and Connect's Java values side by side: Utf8 and String as text, bytes as arrays, structs and records as maps. */
    private static Object plain(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Byte || v instanceof Short) {
            return ((Number) v).intValue();   // Connect's int8 and int16 are Avro ints
        }
        if (v instanceof CharSequence s) {
            return s.toString();
        }
        if (v instanceof ByteBuffer b) {
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            return Arrays.toString(bytes);
        }
        if (v instanceof byte[] bytes) {
            return Arrays.toString(bytes);
        }
        if (v instanceof java.math.BigDecimal d) {
            return Arrays.toString(d.unscaledValue().toByteArray());
        }
        if (v instanceof List<?> list) {
            return list.stream().map(AvroEncoderTest::plain).toList();
        }
        if (v instanceof GenericRecord r) {
            Map<String, Object> m = new LinkedHashMap<>();
            r.getSchema().getFields().forEach(f -> m.put(f.name(), plain(r.get(f.name()))));
            return m;
        }
        if (v instanceof Struct s) {
            Map<String, Object> m = new LinkedHashMap<>();
            s.schema().fields().forEach(f -> m.put(f.name(), plain(s.get(f))));
            return m;
        }
        return v;
    }

    @Test
    void schemasAreWhatAvroConverterRegistersForDebeziumsConnectSchemas() throws Exception {
        ChangeEvent insert = DebeziumEncoderTest.captured("insert.hex");
        AvroEncoder encoder = encoder();
        encoder.key(insert);
        encoder.value(insert);

        JsonNode key = JSON.readTree(registered.get(0).getValue());
        assertThat(key.get("type").asText()).isEqualTo("record");
        assertThat(key.get("name").asText()).isEqualTo("Key");
        assertThat(key.get("namespace").asText()).isEqualTo("demo.public.sample");
        assertThat(key.get("connect.name").asText()).isEqualTo("demo.public.sample.Key");
        assertThat(key.get("fields").get(0).get("name").asText()).isEqualTo("id");
        assertThat(key.get("fields").get(0).get("type").asText()).isEqualTo("long");

        JsonNode envelope = JSON.readTree(registered.get(1).getValue());
        assertThat(envelope.get("name").asText()).isEqualTo("Envelope");
        assertThat(envelope.get("namespace").asText()).isEqualTo("demo.public.sample");
        assertThat(envelope.get("connect.name").asText()).isEqualTo("demo.public.sample.Envelope");
        assertThat(envelope.get("connect.version").asInt()).isEqualTo(2);
        JsonNode before = field(envelope, "before");
        assertThat(before.get("type").get(0).asText()).isEqualTo("null");
        assertThat(before.get("type").get(1).get("name").asText()).isEqualTo("Value");
        assertThat(before.get("default").isNull()).isTrue();
        // the same record again is a reference by its name (in the envelope's namespace)
        assertThat(field(envelope, "after").get("type").get(1).asText()).isIn("Value", "demo.public.sample.Value");
        JsonNode value = before.get("type").get(1);
        assertThat(value.get("connect.name").asText()).isEqualTo("demo.public.sample.Value");
        JsonNode seen = field(value, "seen").get("type");
        assertThat(seen.get(0).asText()).isEqualTo("null");
        assertThat(seen.get(1).get("connect.name").asText()).isEqualTo("io.debezium.time.ZonedTimestamp");
        assertThat(seen.get(1).get("connect.version").asInt()).isEqualTo(1);

        JsonNode snapshot = field(field(envelope, "source").get("type"), "snapshot");
        // an optional field with a default of its own: the type first, so that the default fits the union
        assertThat(snapshot.get("type").get(0).get("type").asText()).isEqualTo("string");
        assertThat(snapshot.get("type").get(1).asText()).isEqualTo("null");
        assertThat(snapshot.get("default").asText()).isEqualTo("false");
        assertThat(snapshot.get("type").get(0).get("connect.name").asText()).isEqualTo("io.debezium.data.Enum");
        assertThat(snapshot.get("type").get(0).get("connect.parameters").get("allowed").asText()).contains("incremental");
    }

    private static JsonNode field(JsonNode record, String name) {
        for (JsonNode f : record.get("fields")) {
            if (f.get("name").asText().equals(name)) {
                return f;
            }
        }
        throw new AssertionError(name + " is not a field of " + record);
    }

    @Test
    void decimalsAndSmallIntegersCarryAvroConverterAnnotations() {
        Schema s = ConnectAvroSchemas.of(json("""
                {"type":"struct","fields":[
                  {"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,
                   "parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"price"},
                  {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,
                   "parameters":{"scale":"2"},"field":"cash"},
                  {"type":"int16","optional":false,"field":"small"},
                  {"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"day"},
                  {"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"}
                ],"optional":false,"name":"p.public.t-1.Value"}"""));

        assertThat(s.getFullName()).isEqualTo("p.public.t_1.Value");
        assertThat(s.getProp("connect.name")).isEqualTo("p.public.t-1.Value");
        Schema price = s.getField("price").schema();
        assertThat(price.getLogicalType().getName()).isEqualTo("decimal");
        assertThat(price.getObjectProp("precision")).isEqualTo(10);
        assertThat(price.getObjectProp("scale")).isEqualTo(2);
        Schema cash = s.getField("cash").schema().getTypes().get(1);
        assertThat(cash.getObjectProp("precision")).isEqualTo(ConnectAvroSchemas.DEFAULT_DECIMAL_PRECISION);
        assertThat(s.getField("small").schema().getType()).isEqualTo(Schema.Type.INT);
        assertThat(s.getField("small").schema().getProp("connect.type")).isEqualTo("int16");
        assertThat(s.getField("day").schema().getTypes().get(1).getLogicalType().getName()).isEqualTo("date");
        assertThat(s.getField("tags").schema().getTypes().get(1).getElementType().getTypes().get(0).getType())
                .isEqualTo(Schema.Type.NULL);
        // the text registered parses back to the same schema
        assertThat(new Schema.Parser().parse(s.toString())).isEqualTo(s);
    }

    @Test
    void namesAvroRefusesAreAdjustedAsDebeziumsAvroModeDoes() {
        assertThat(ConnectAvroSchemas.avroName("unit price")).isEqualTo("unit_price");
        assertThat(ConnectAvroSchemas.avroName("2nd")).isEqualTo("_2nd");
        assertThat(ConnectAvroSchemas.avroName("plain_name9")).isEqualTo("plain_name9");
        assertThat(ConnectAvroSchemas.avroFullName("shop-eu.public.order-lines.Value")).isEqualTo("shop_eu.public.order_lines.Value");
    }

    @Test
    void aShapeIsRegisteredBeforeItsFirstRowAndOnceOnly() {
        ChangeEvent insert = DebeziumEncoderTest.captured("insert.hex");
        AvroEncoder encoder = encoder();
        encoder.value(insert);
        encoder.key(insert);
        encoder.value(insert);
        encoder.register(insert.relation());   // PostgreSQL sends the same Relation again in a new session
        encoder.value(insert);
        assertThat(registered).hasSize(2);
    }

    @Test
    void aTableWhoseShapeChangedGetsANewSchemaVersionBeforeItsFirstRow() {
        ChangeEvent insert = DebeziumEncoderTest.captured("insert.hex");
        AvroEncoder encoder = encoder();
        encoder.value(insert);
        Relation r = insert.relation();
        List<Relation.Column> columns = new ArrayList<>(r.columns());
        int changed = -1;
        for (int i = 0; i < columns.size(); i++) {
            Relation.Column c = columns.get(i);
            if (!c.key() && c.typeOid() == BuiltinTypes.TIMESTAMPTZ) {
                columns.set(i, new Relation.Column(false, c.name(), BuiltinTypes.TEXT, -1));   // ALTER COLUMN … TYPE text
                changed = i;
            }
        }
        assertThat(changed).as("the capture has a timestamptz column").isNotNegative();
        Relation altered = new Relation(r.relationId(), r.namespace(), r.name(), r.replicaIdentity(), columns);
        encoder.register(altered);
        ChangeEvent next = new ChangeEvent(insert.op(), altered, insert.before(), insert.after(), insert.lsn(),
                insert.commitLsn(), insert.xid(), 1, insert.committedAtMicros());

        byte[] value = encoder.value(next);

        assertThat(registered).extracting(Map.Entry::getKey).containsExactly("demo.public.sample-key",
                "demo.public.sample-value", "demo.public.sample-key", "demo.public.sample-value");
        assertThat(registered.get(3).getValue()).isNotEqualTo(registered.get(1).getValue());
        assertThat(ByteBuffer.wrap(value, 1, 4).getInt()).isEqualTo(4);
    }

    @Test
    void aRegistryFailureWritesNoRecordAndTheNextTryRegistersAgain() throws Exception {
        ChangeEvent insert = DebeziumEncoderTest.captured("insert.hex");
        boolean[] down = {true};
        AvroEncoder encoder = new AvroEncoder(DebeziumEncoderTest.encoder(false, FormatConfig.Debezium.DEFAULT),
                (subject, schema, context) -> {
                    if (down[0]) {
                        throw new IllegalStateException("registry down for " + subject + " (" + context + ")");
                    }
                    return register(subject, schema, context);
                }, t -> "demo." + t.schema() + "." + t.table());

        assertThatThrownBy(() -> encoder.value(insert)).hasMessageContaining("demo.public.sample-key")
                .hasMessageContaining("the first row of public.sample").hasMessageContaining("at LSN " + insert.lsn());
        down[0] = false;
        assertThat(decode(encoder.value(insert)).get("op").toString()).isEqualTo("c");
    }

    @Test
    void aPayloadThatDoesNotFitFailsNamingTheFieldAndLeavesNothingForTheNextRecord() throws Exception {
        Schema schema = ConnectAvroSchemas.of(json("""
                {"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"int32","optional":true,"field":"b"}],
                 "optional":false,"name":"p.public.t.Value"}"""));
        AvroPayloadWriter writer = new AvroPayloadWriter();

        assertThatThrownBy(() -> writer.write(1, schema, "{\"a\":1,\"b\":\"x\"}".getBytes()))
                .isInstanceOf(EventEncodingException.class).hasMessage("p.public.t.Value.b: x does not fit Avro type int");
        registered.add(Map.entry("p.public.t-value", schema.toString()));
        GenericRecord next = decode(writer.write(1, schema, "{\"a\":5,\"b\":6}".getBytes()));

        assertThat(next.get("a")).isEqualTo(5);
        assertThat(next.get("b")).isEqualTo(6);
    }

    private static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
