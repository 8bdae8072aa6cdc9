package io.pgrelay.agent.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a Connect payload, as JsonConverter writes it (what {@link DebeziumEncoder} makes), as a
 * record in the Confluent wire format: byte 0, the schema id as 4 bytes big-endian, then the Avro
 * binary encoding of the payload under the schema that {@link ConnectAvroSchemas} made of the
 * payload's Connect schema, in one pass of a streaming parser over the payload. Struct fields are
 * taken in order: the payload and its schema come from the same columns.
 *
 * <p>Not thread-safe: one per encoder; its buffers are reused from record to record.
 */
final class AvroPayloadWriter {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final Bytes out = new Bytes();
    private BinaryEncoder encoder;

    /** The record's bytes: wire-format header with {@code schemaId}, then {@code payload} encoded under {@code schema}. */
    byte[] write(int schemaId, Schema schema, byte[] payload) {
        // first: configuring the reused encoder flushes what a failed record may have left in its buffer
        encoder = EncoderFactory.get().binaryEncoder(out, encoder);
        out.reset();
        out.write(0);
        out.write(schemaId >>> 24);
        out.write(schemaId >>> 16);
        out.write(schemaId >>> 8);
        out.write(schemaId);
        try (JsonParser p = JSON.createParser(payload)) {
            p.nextToken();
            write(schema, p);
            encoder.flush();
        } catch (EventEncodingException e) {
            throw new EventEncodingException(schema.getFullName() + "." + e.getMessage());
        } catch (JsonProcessingException e) {
            throw new EventEncodingException("the payload for " + schema.getFullName() + " is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // neither the payload array nor the output buffer does I/O
        }
        return out.toByteArray();
    }

    /** Writes the value whose first token is the parser's current one, and leaves the parser on its last token. */
    private void write(Schema schema, JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        switch (schema.getType()) {
            case RECORD -> {
                if (t != JsonToken.START_OBJECT) {
                    throw mismatch(schema, p);
                }
                for (Schema.Field f : schema.getFields()) {
                    if (p.nextToken() != JsonToken.FIELD_NAME) {
                        throw new EventEncodingException(": fewer fields than its Avro schema " + schema.getFullName());
                    }
                    p.nextToken();
                    try {
                        write(f.schema(), p);
                    } catch (EventEncodingException e) {
                        throw new EventEncodingException(f.name() + (e.getMessage().startsWith(":") ? "" : ".") + e.getMessage());
                    }
                }
                if (p.nextToken() != JsonToken.END_OBJECT) {
                    throw new EventEncodingException(": more fields than its Avro schema " + schema.getFullName());
                }
            }
            case UNION -> {
                List<Schema> branches = schema.getTypes();
                int nullIndex = branches.get(0).getType() == Schema.Type.NULL ? 0 : 1;
                if (t == JsonToken.VALUE_NULL) {
                    encoder.writeIndex(nullIndex);
                    encoder.writeNull();
                } else {
                    encoder.writeIndex(1 - nullIndex);
                    write(branches.get(1 - nullIndex), p);
                }
            }
            case NULL -> encoder.writeNull();
            case BOOLEAN -> {
                if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                    throw mismatch(schema, p);
                }
                encoder.writeBoolean(t == JsonToken.VALUE_TRUE);
            }
            case INT -> {
                if (t != JsonToken.VALUE_NUMBER_INT) {
                    throw mismatch(schema, p);
                }
                encoder.writeInt(p.getIntValue());
            }
            case LONG -> {
                if (t != JsonToken.VALUE_NUMBER_INT) {
                    throw mismatch(schema, p);
                }
                encoder.writeLong(p.getLongValue());
            }
            // NaN and the infinities: JsonConverter (and so DebeziumEncoder) writes them as strings
            case FLOAT -> encoder.writeFloat(t == JsonToken.VALUE_STRING ? Float.parseFloat(p.getText()) : p.getFloatValue());
            case DOUBLE -> encoder.writeDouble(t == JsonToken.VALUE_STRING ? Double.parseDouble(p.getText()) : p.getDoubleValue());
            case STRING -> {
                if (t != JsonToken.VALUE_STRING) {
                    throw mismatch(schema, p);
                }
                encoder.writeString(p.getText());
            }
            case BYTES -> {
                if (t != JsonToken.VALUE_STRING) {
                    throw mismatch(schema, p);
                }
                encoder.writeBytes(p.getBinaryValue());   // JsonConverter's bytes are base64
            }
            case ARRAY -> {
                if (t != JsonToken.START_ARRAY) {
                    throw mismatch(schema, p);
                }
                // Avro writes an array's length before its items: the items are read first
                encoder.writeArrayStart();
                JsonNode array = JSON.readTree(p);
                encoder.setItemCount(array.size());
                for (JsonNode item : array) {
                    encoder.startItem();
                    try (JsonParser ip = JSON.treeAsTokens(item)) {
                        ip.nextToken();
                        write(schema.getElementType(), ip);
                    }
                }
                encoder.writeArrayEnd();
            }
            default -> throw new EventEncodingException(": Avro type " + schema.getType() + " is not written by this build");
        }
    }

    private static EventEncodingException mismatch(Schema schema, JsonParser p) throws IOException {
        String text = p.currentToken() == JsonToken.START_OBJECT || p.currentToken() == JsonToken.START_ARRAY
                ? p.currentToken().asString() + "…" : p.getText();
        return new EventEncodingException(": " + (text.length() > 60 ? text.substring(0, 60) + "…" : text)
                + " does not fit Avro type " + schema.getType().getName());
    }

    /** A growable byte buffer: ByteArrayOutputStream without its locks, reused from record to record. */
    private static final class Bytes extends OutputStream {
        private byte[] buf = new byte[1024];
        private int size;

        void reset() {
            size = 0;
        }

        @Override
        public void write(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, size, len);
            size += len;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }

        private void ensure(int more) {
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }
    }
}
