package io.pgrelay.agent.event;

import io.pgrelay.agent.config.FormatConfig;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Debezium's PostgreSQL type mapping (its {@code PostgresValueConverter} with the modes of
 * {@link FormatConfig.Debezium}): for each column, the Kafka Connect schema as JsonConverter writes
 * it and a {@link ValueCodec} that writes the value as JsonConverter would, straight from
 * PostgreSQL's text form. Chosen once per column when a relation is registered.
 *
 * <p>Types Debezium maps to a struct of its own (geometric types, {@code bit(n)}) or does not
 * map at all are written as PostgreSQL's text in a string field — docs/formats.md lists them.
 */
final class DebeziumTypes {

    /**
     * One column's Connect schema in JsonConverter's key order, split around {@code optional}:
     * {@code {<type>,"optional":…<tail>,"field":"name"}}.
     *
     * @param type   {@code "type":"int64"}, with {@code "items":…} for an array
     * @param tail   {@code ,"name":"io.debezium.time.MicroTimestamp","version":1} and parameters, or empty
     * @param string whether the payload is a JSON string (so the unavailable placeholder fits it)
     */
    record Mapping(ValueCodec codec, String type, String tail, boolean string) {

        /** The schema of a value of this mapping, as an array's items (optional) or alone. */
        String schema(boolean optional) {
            return "{" + type + ",\"optional\":" + optional + tail + "}";
        }

        String field(String name, boolean optional) {
            return "{" + type + ",\"optional\":" + optional + tail + ",\"field\":" + quote(name) + "}";
        }
    }

    private final FormatConfig.Debezium modes;
    private final TypeCatalog types;

    DebeziumTypes(FormatConfig.Debezium modes, TypeCatalog types) {
        this.modes = modes;
        this.types = types;
    }

    Mapping forColumn(int oid, int typeModifier) {
        TypeInfo type = types.type(oid);
        for (int depth = 0; type.kind() == TypeInfo.Kind.DOMAIN && depth < 32; depth++) {
            type = types.type(type.baseOid());
        }
        return switch (type.kind()) {
            case BASE -> forBuiltin(type.oid(), typeModifier, type.name());
            case ARRAY -> {
                Mapping element = forColumn(type.elementOid(), typeModifier);
                TypeInfo elementType = types.type(type.elementOid());
                for (int depth = 0; elementType.kind() == TypeInfo.Kind.DOMAIN && depth < 32; depth++) {
                    elementType = types.type(elementType.baseOid());
                }
                yield new Mapping(new ArrayCodec(element.codec(), elementType.delimiter()),
                        "\"type\":\"array\",\"items\":" + element.schema(true), "", false);
            }
            case ENUM -> new Mapping(ValueCodecs.STRING, "\"type\":\"string\"", ",\"name\":\"io.debezium.data.Enum\",\"version\":1", true);
            default -> string();
        };
    }

    private static Mapping string() {
        return new Mapping(ValueCodecs.STRING, "\"type\":\"string\"", "", true);
    }

    private static Mapping named(ValueCodec codec, String connectType, String name, boolean string) {
        return new Mapping(codec, "\"type\":\"" + connectType + "\"", ",\"name\":\"" + name + "\",\"version\":1", string);
    }

    private Mapping forBuiltin(int oid, int typmod, String typeName) {
        boolean connect = modes.timePrecisionMode() == FormatConfig.TimePrecisionMode.CONNECT;
        return switch (oid) {
            case BuiltinTypes.BOOL -> new Mapping(ValueCodecs.BOOL, "\"type\":\"boolean\"", "", false);
            case BuiltinTypes.INT2 -> new Mapping(ValueCodecs.NUMBER, "\"type\":\"int16\"", "", false);
            case BuiltinTypes.INT4 -> new Mapping(ValueCodecs.NUMBER, "\"type\":\"int32\"", "", false);
            case BuiltinTypes.INT8, BuiltinTypes.OID -> new Mapping(ValueCodecs.NUMBER, "\"type\":\"int64\"", "", false);
            case BuiltinTypes.FLOAT4 -> new Mapping(ValueCodecs.FLOAT_SIGNED_ZERO, "\"type\":\"float\"", "", false);
            case BuiltinTypes.FLOAT8 -> new Mapping(ValueCodecs.FLOAT_SIGNED_ZERO, "\"type\":\"double\"", "", false);
            case BuiltinTypes.NUMERIC -> numeric(typmod);
            case MONEY -> money();
            case BuiltinTypes.JSON, BuiltinTypes.JSONB -> named(ValueCodecs.STRING, "string", "io.debezium.data.Json", true);
            case XML -> named(ValueCodecs.STRING, "string", "io.debezium.data.Xml", true);
            case UUID -> named(ValueCodecs.STRING, "string", "io.debezium.data.Uuid", true);
            case TSVECTOR -> named(ValueCodecs.STRING, "string", "io.debezium.data.TsVector", true);
            case BuiltinTypes.BYTEA -> switch (modes.binaryHandlingMode()) {
                case BYTES -> new Mapping(ByteaCodec.INSTANCE, "\"type\":\"bytes\"", "", false);
                case BASE64 -> new Mapping(ByteaCodec.INSTANCE, "\"type\":\"string\"", "", true);
                case HEX -> new Mapping(DebeziumTypes::writeByteaHex, "\"type\":\"string\"", "", true);
            };
            case BuiltinTypes.DATE -> named(DebeziumTemporal::writeDate, "int32",
                    connect ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date", false);
            case TIME -> {
                int precision = typmod < 0 ? 6 : typmod;
                if (connect || precision <= 3) {
                    yield named(DebeziumTemporal::writeTimeMillis, "int32",
                            connect ? "org.apache.kafka.connect.data.Time" : "io.debezium.time.Time", false);
                }
                yield named(DebeziumTemporal::writeTimeMicros, "int64", "io.debezium.time.MicroTime", false);
            }
            case BuiltinTypes.TIMESTAMP -> {
                int precision = typmod < 0 ? 6 : typmod;
                if (connect || precision <= 3) {
                    yield named(DebeziumTemporal::writeTimestampMillis, "int64",
                            connect ? "org.apache.kafka.connect.data.Timestamp" : "io.debezium.time.Timestamp", false);
                }
                yield named(DebeziumTemporal::writeTimestampMicros, "int64", "io.debezium.time.MicroTimestamp", false);
            }
            case BuiltinTypes.TIMESTAMPTZ -> {
                int width = typmod < 0 ? 6 : typmod;
                yield named((text, off, len, out) -> DebeziumTemporal.writeZonedTimestamp(text, off, len, width, out), "string",
                        "io.debezium.time.ZonedTimestamp", true);
            }
            case TIMETZ -> named(DebeziumTemporal::writeZonedTime, "string", "io.debezium.time.ZonedTime", true);
            case INTERVAL -> named(DebeziumTemporal::writeMicroDuration, "int64", "io.debezium.time.MicroDuration", false);
            default -> "hstore".equals(typeName) ? named(DebeziumTypes::writeHstoreJson, "string", "io.debezium.data.Json", true)
                    : string();
        };
    }

    static final int MONEY = 790;
    static final int XML = 142;
    static final int UUID = 2950;
    static final int TSVECTOR = 3614;
    static final int TIME = 1083;
    static final int TIMETZ = 1266;
    static final int INTERVAL = 1186;

    // ---- numeric ----------------------------------------------------------------------------

    private Mapping numeric(int typmod) {
        return switch (modes.decimalHandlingMode()) {
            case DOUBLE -> new Mapping(ValueCodecs.FLOAT_SIGNED_ZERO, "\"type\":\"double\"", "", false);
            case STRING -> string();
            case PRECISE -> {
                if (typmod < 4) {
                    // numeric without precision: Debezium's VariableScaleDecimal {scale, value}
                    yield new Mapping(DebeziumTypes::writeVariableScaleDecimal,
                            "\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                                    + "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]",
                            ",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,\"doc\":\"Variable scaled decimal\"",
                            false);
                }
                int precision = ((typmod - 4) >> 16) & 0xFFFF;
                int scale = (typmod - 4) & 0xFFFF;
                yield new Mapping((text, off, len, out) -> writeDecimal(text, off, len, scale, out), "\"type\":\"bytes\"",
                        ",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\""
                                + scale + "\",\"connect.decimal.precision\":\"" + precision + "\"}", false);
            }
        };
    }

    private Mapping money() {
        return switch (modes.decimalHandlingMode()) {
            case DOUBLE -> new Mapping((text, off, len, out) -> out.write(moneyDecimal(text, off, len).toPlainString()
                    .getBytes(StandardCharsets.US_ASCII)), "\"type\":\"double\"", "", false);
            case STRING -> new Mapping((text, off, len, out) -> out.writeString(moneyDecimal(text, off, len).toPlainString()),
                    "\"type\":\"string\"", "", true);
            case PRECISE -> new Mapping((text, off, len, out) -> writeUnscaled(moneyDecimal(text, off, len).setScale(2)
                    .unscaledValue(), out), "\"type\":\"bytes\"",
                    ",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\"}", false);
        };
    }

    /** {@code -$1,234.56} (lc_monetary C or en_US) → -1234.56. */
    private static BigDecimal moneyDecimal(byte[] text, int off, int len) {
        StringBuilder digits = new StringBuilder(len);
        for (int i = off; i < off + len; i++) {
            char c = (char) text[i];
            if ((c >= '0' && c <= '9') || c == '.' || c == '-') {
                digits.append(c);
            } else if (c == '(') {
                digits.append('-');
            }
        }
        return new BigDecimal(digits.toString());
    }

    /** numeric(p, s): PostgreSQL writes exactly s fraction digits, so the digits are the unscaled value. */
    private static void writeDecimal(byte[] text, int off, int len, int scale, JsonBuffer out) {
        if (len > 0 && text[off] == 'N') {
            out.writeNull();   // NaN: Debezium's precise mode has no value for it and writes null
            return;
        }
        long unscaled = 0;
        boolean negative = false;
        int digits = 0;
        int fraction = -1;
        for (int i = off; i < off + len; i++) {
            byte b = text[i];
            if (b == '-') {
                negative = true;
            } else if (b == '.') {
                fraction = 0;
            } else {
                unscaled = unscaled * 10 + (b - '0');
                digits++;
                if (fraction >= 0) {
                    fraction++;
                }
            }
        }
        if (digits > 18 || Math.max(fraction, 0) != scale) {
            BigDecimal d = new BigDecimal(new String(text, off, len, StandardCharsets.US_ASCII)).setScale(scale);
            writeUnscaled(d.unscaledValue(), out);
            return;
        }
        writeUnscaledLong(negative ? -unscaled : unscaled, out);
    }

    private static void writeVariableScaleDecimal(byte[] text, int off, int len, JsonBuffer out) {
        if (len > 0 && text[off] == 'N') {
            out.writeNull();
            return;
        }
        int scale = 0;
        for (int i = off; i < off + len; i++) {
            if (text[i] == '.') {
                scale = off + len - i - 1;
            }
        }
        out.write(VSD_SCALE);
        out.writeLong(scale);
        out.write(VSD_VALUE);
        writeDecimal(text, off, len, scale, out);
        out.write((byte) '}');
    }

    private static final byte[] VSD_SCALE = "{\"scale\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VSD_VALUE = ",\"value\":".getBytes(StandardCharsets.US_ASCII);

    /** A Connect Decimal's bytes: the unscaled value in big-endian two's complement, fewest bytes, base64. */
    private static void writeUnscaledLong(long v, JsonBuffer out) {
        int n = 8;
        while (n > 1) {
            long high = v >> ((n - 1) * 8 - 1);   // the bits that a value of n-1 bytes could not hold, with its sign bit
            if (high != 0 && high != -1) {
                break;
            }
            n--;
        }
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) (v >> ((n - 1 - i) * 8));
        }
        out.writeBase64(bytes, 0, n);
    }

    private static void writeUnscaled(BigInteger unscaled, JsonBuffer out) {
        byte[] bytes = unscaled.toByteArray();
        out.writeBase64(bytes, 0, bytes.length);
    }

    // ---- bytea ------------------------------------------------------------------------------

    /** {@code \x0aff} → {@code "0aff"} (Debezium's hex mode writes lower-case hex). */
    private static void writeByteaHex(byte[] text, int off, int len, JsonBuffer out) {
        if (len >= 2 && text[off] == '\\' && text[off + 1] == 'x') {
            out.writeString(text, off + 2, len - 2);
        } else {
            throw new EventEncodingException("bytea value is not in hex output form (bytea_output=hex)");
        }
    }

    /** hstore.handling.mode=json: {@code "a"=>"1", "b"=>NULL} → the string {@code {"a":"1","b":null}}. */
    private static void writeHstoreJson(byte[] t, int off, int len, JsonBuffer out) {
        StringBuilder json = new StringBuilder(len + 8).append('{');
        String s = new String(t, off, len, StandardCharsets.UTF_8);
        int i = 0;
        boolean first = true;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"') {
                StringBuilder key = new StringBuilder();
                i = readQuoted(s, i, key);
                while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '=' || s.charAt(i) == '>')) {
                    i++;
                }
                json.append(first ? "" : ",").append(jsonQuote(key.toString())).append(':');
                first = false;
                if (s.startsWith("NULL", i)) {
                    json.append("null");
                    i += 4;
                } else {
                    StringBuilder value = new StringBuilder();
                    i = readQuoted(s, i, value);
                    json.append(jsonQuote(value.toString()));
                }
            } else {
                i++;
            }
        }
        out.writeString(json.append('}').toString());
    }

    private static int readQuoted(String s, int i, StringBuilder into) {
        i++;   // the opening quote
        while (i < s.length() && s.charAt(i) != '"') {
            if (s.charAt(i) == '\\' && i + 1 < s.length()) {
                i++;
            }
            into.append(s.charAt(i++));
        }
        return i + 1;
    }

    private static String jsonQuote(String s) {
        JsonBuffer b = new JsonBuffer(s.length() + 8);
        b.writeString(s);
        return b.toString();
    }

    static String quote(String s) {
        return jsonQuote(s);
    }

}
