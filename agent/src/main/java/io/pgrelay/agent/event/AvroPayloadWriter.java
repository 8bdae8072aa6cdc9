package io.pgrelay.agent.event;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;

/**
 * Writes a Connect payload, as JsonConverter writes it (what {@link DebeziumEncoder} makes), as a
 * record in the Confluent wire format: byte 0, the schema id as 4 bytes big-endian, then the Avro
 * binary encoding of the payload under the schema that {@link ConnectAvroSchemas} made of the
 * payload's Connect schema. Struct fields are taken in order: the payload and its schema come from
 * the same columns.
 *
 * <p>Not thread-safe: one per encoder; its buffers are reused from record to record.
 */
final class AvroPayloadWriter {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    private BinaryEncoder encoder;

    /** The record's bytes: wire-format header with {@code schemaId}, then {@code payload} encoded under {@code schema}. */
    byte[] write(int schemaId, Schema schema, byte[] payload) {
        JsonNode node;
        try {
            node = JSON.readTree(payload);
        } catch (IOException e) {
            throw new EventEncodingException("the payload for " + schema.getFullName() + " is not JSON: " + e.getMessage());
        }
        out.reset();
        out.write(0);
        out.write(schemaId >>> 24);
        out.write(schemaId >>> 16);
        out.write(schemaId >>> 8);
        out.write(schemaId);
        encoder = EncoderFactory.get().directBinaryEncoder(out, encoder);
        try {
            write(schema, node, schema.getName());
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    private void write(Schema schema, JsonNode v, String path) throws IOException {
        switch (schema.getType()) {
            case RECORD -> {
                if (!v.isObject()) {
                    throw mismatch(schema, v, path);
                }
                List<Schema.Field> fields = schema.getFields();
                if (v.size() != fields.size()) {
                    throw new EventEncodingException(path + " has " + v.size() + " fields where its Avro schema "
                            + schema.getFullName() + " has " + fields.size());
                }
                Iterator<JsonNode> values = v.elements();
                for (Schema.Field f : fields) {
                    write(f.schema(), values.next(), path + "." + f.name());
                }
            }
            case UNION -> {
                List<Schema> branches = schema.getTypes();
                int nullIndex = branches.get(0).getType() == Schema.Type.NULL ? 0 : 1;
                if (v.isNull()) {
                    encoder.writeIndex(nullIndex);
                    encoder.writeNull();
                } else {
                    encoder.writeIndex(1 - nullIndex);
                    write(branches.get(1 - nullIndex), v, path);
                }
            }
            case NULL -> encoder.writeNull();
            case BOOLEAN -> encoder.writeBoolean(v.asBoolean());
            case INT -> {
                if (!v.canConvertToInt()) {
                    throw mismatch(schema, v, path);
                }
                encoder.writeInt(v.intValue());
            }
            case LONG -> {
                if (!v.canConvertToLong()) {
                    throw mismatch(schema, v, path);
                }
                encoder.writeLong(v.longValue());
            }
            // NaN and the infinities: JsonConverter (and so DebeziumEncoder) writes them as strings
            case FLOAT -> encoder.writeFloat(v.isTextual() ? Float.parseFloat(v.textValue()) : v.floatValue());
            case DOUBLE -> encoder.writeDouble(v.isTextual() ? Double.parseDouble(v.textValue()) : v.doubleValue());
            case STRING -> encoder.writeString(v.isTextual() ? v.textValue() : v.toString());
            case BYTES -> {
                if (!v.isTextual()) {
                    throw mismatch(schema, v, path);
                }
                encoder.writeBytes(v.binaryValue());   // JsonConverter's bytes are base64
            }
            case ARRAY -> {
                if (!v.isArray()) {
                    throw mismatch(schema, v, path);
                }
                encoder.writeArrayStart();
                encoder.setItemCount(v.size());
                for (JsonNode item : v) {
                    encoder.startItem();
                    write(schema.getElementType(), item, path + "[]");
                }
                encoder.writeArrayEnd();
            }
            default -> throw new EventEncodingException(path + ": Avro type " + schema.getType() + " is not written by this build");
        }
    }

    private static EventEncodingException mismatch(Schema schema, JsonNode v, String path) {
        String text = v.toString();
        return new EventEncodingException(path + ": " + (text.length() > 60 ? text.substring(0, 60) + "…" : text)
                + " does not fit Avro type " + schema.getType().getName());
    }
}
