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

    private static final double DAYS_PER_MONTH_AVG = 365.25 / 12.0d;   // Debezium's MicroDuration.DAYS_PER_MONTH_AVG

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
            case BuiltinTypes.DATE -> named(DebeziumTypes::writeDate, "int32",
                    connect ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date", false);
            case TIME -> {
                int precision = typmod < 0 ? 6 : typmod;
                if (connect || precision <= 3) {
                    yield named(DebeziumTypes::writeTimeMillis, "int32",
                            connect ? "org.apache.kafka.connect.data.Time" : "io.debezium.time.Time", false);
                }
                yield named(DebeziumTypes::writeTimeMicros, "int64", "io.debezium.time.MicroTime", false);
            }
            case BuiltinTypes.TIMESTAMP -> {
                int precision = typmod < 0 ? 6 : typmod;
                if (connect || precision <= 3) {
                    yield named(DebeziumTypes::writeTimestampMillis, "int64",
                            connect ? "org.apache.kafka.connect.data.Timestamp" : "io.debezium.time.Timestamp", false);
                }
                yield named(DebeziumTypes::writeTimestampMicros, "int64", "io.debezium.time.MicroTimestamp", false);
            }
            case BuiltinTypes.TIMESTAMPTZ -> {
                int width = typmod < 0 ? 6 : typmod;
                yield named((text, off, len, out) -> writeZonedTimestamp(text, off, len, width, out), "string",
                        "io.debezium.time.ZonedTimestamp", true);
            }
            case TIMETZ -> named(DebeziumTypes::writeZonedTime, "string", "io.debezium.time.ZonedTime", true);
            case INTERVAL -> named(DebeziumTypes::writeMicroDuration, "int64", "io.debezium.time.MicroDuration", false);
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

    // ---- dates and times (TimeZone=UTC, DateStyle=ISO) --------------------------------------

    private static int num(byte[] t, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            byte b = t[i];
            if (b < '0' || b > '9') {
                throw new EventEncodingException("'" + new String(t, from, to - from, StandardCharsets.UTF_8) + "' is not a number");
            }
            v = v * 10 + (b - '0');
        }
        return v;
    }

    /** Days since 1970-01-01 of {@code YYYY-MM-DD} (years may have more than 4 digits). */
    private static long epochDay(byte[] t, int off, int dateEnd) {
        if (dateEnd - off < 10) {
            throw new EventEncodingException("'" + new String(t, off, dateEnd - off, StandardCharsets.UTF_8) + "' is not a date");
        }
        long year = num(t, off, dateEnd - 6);
        int month = num(t, dateEnd - 5, dateEnd - 3);
        int day = num(t, dateEnd - 2, dateEnd);
        // days_from_civil (H. Hinnant)
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    private static void checkFinite(byte[] t, int off, int len) {
        if (len > 0 && (t[off] == 'i' || t[off] == '-' && len > 1 && t[off + 1] == 'i')) {
            throw new EventEncodingException("'" + new String(t, off, len, StandardCharsets.UTF_8)
                    + "' has no value in Debezium's temporal types; use format: pgrelay for infinite dates and times");
        }
        if (len > 3 && t[off + len - 3] == ' ' && t[off + len - 2] == 'B' && t[off + len - 1] == 'C') {
            throw new EventEncodingException("'" + new String(t, off, len, StandardCharsets.UTF_8)
                    + "' is before year 1; Debezium's temporal types are not written for it by this build");
        }
    }

    private static int dateEnd(byte[] t, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (t[i] == ' ') {
                return i;
            }
        }
        return off + len;
    }

    private static void writeDate(byte[] t, int off, int len, JsonBuffer out) {
        checkFinite(t, off, len);
        out.writeLong(epochDay(t, off, off + len));
    }

    /** Microseconds of {@code HH:MM:SS[.ffffff]} in {@code t[from, to)}. */
    private static long timeMicros(byte[] t, int from, int to) {
        long micros = (num(t, from, from + 2) * 3600L + num(t, from + 3, from + 5) * 60L + num(t, from + 6, from + 8)) * 1_000_000L;
        if (to > from + 9 && t[from + 8] == '.') {
            int digits = to - from - 9;
            long fraction = num(t, from + 9, to);
            for (int i = digits; i < 6; i++) {
                fraction *= 10;
            }
            micros += fraction;
        }
        return micros;
    }

    /** Where a time's offset begins ({@code +}/{@code -} after the seconds), or {@code end}. */
    private static int offsetStart(byte[] t, int from, int end) {
        for (int i = from + 8; i < end; i++) {
            if (t[i] == '+' || t[i] == '-') {
                return i;
            }
        }
        return end;
    }

    /** An offset {@code +HH[:MM[:SS]]} in seconds east of UTC. */
    private static int offsetSeconds(byte[] t, int from, int end) {
        if (from >= end) {
            return 0;
        }
        int sign = t[from] == '-' ? -1 : 1;
        int seconds = num(t, from + 1, from + 3) * 3600;
        if (end > from + 3) {
            seconds += num(t, from + 4, from + 6) * 60;
        }
        if (end > from + 6) {
            seconds += num(t, from + 7, from + 9);
        }
        return sign * seconds;
    }

    private static void writeTimeMicros(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(timeMicros(t, off, off + len));
    }

    private static void writeTimeMillis(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(timeMicros(t, off, off + len) / 1000);
    }

    private static long timestampMicros(byte[] t, int off, int len) {
        checkFinite(t, off, len);
        int space = dateEnd(t, off, len);
        int end = off + len;
        int offset = offsetStart(t, space + 1, end);
        long micros = epochDay(t, off, space) * 86_400_000_000L + timeMicros(t, space + 1, offset);
        return micros - offsetSeconds(t, offset, end) * 1_000_000L;
    }

    private static void writeTimestampMicros(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(timestampMicros(t, off, len));
    }

    private static void writeTimestampMillis(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(Math.floorDiv(timestampMicros(t, off, len), 1000));
    }

    /** {@code "2026-11-22T10:15:30.123456Z"}, with as many fraction digits as the column's precision. */
    private static void writeZonedTimestamp(byte[] t, int off, int len, int width, JsonBuffer out) {
        if (len > 0 && (t[off] == 'i' || t[off] == '-')) {
            out.writeString(t, off, len);   // Debezium writes PostgreSQL's "infinity" and "-infinity" as they are
            return;
        }
        long micros = timestampMicros(t, off, len);
        int start = out.size();
        out.writeInstantMicros(micros);    // "…ss.ffffffZ": 6 digits, trimmed below to the column's precision
        if (width < 6) {
            out.truncateFraction(start, width);
        }
    }

    /** {@code 10:15:30.5+02} → {@code "08:15:30.5Z"}: UTC, as Java's ISO_OFFSET_TIME prints it. */
    private static void writeZonedTime(byte[] t, int off, int len, JsonBuffer out) {
        int end = off + len;
        int offset = offsetStart(t, off, end);
        long micros = Math.floorMod(timeMicros(t, off, offset) - offsetSeconds(t, offset, end) * 1_000_000L, 86_400_000_000L);
        long seconds = micros / 1_000_000;
        out.write((byte) '"');
        out.writePadded(seconds / 3600, 2);
        out.write((byte) ':');
        out.writePadded(seconds / 60 % 60, 2);
        out.write((byte) ':');
        out.writePadded(seconds % 60, 2);
        long fraction = micros % 1_000_000;
        if (fraction != 0) {
            int digits = 6;
            while (fraction % 10 == 0) {
                fraction /= 10;
                digits--;
            }
            out.write((byte) '.');
            out.writePadded(fraction, digits);
        }
        out.write((byte) 'Z');
        out.write((byte) '"');
    }

    /**
     * {@code 1 year 2 mons 3 days 04:05:06.789} (IntervalStyle=postgres) → microseconds, computed as
     * Debezium's MicroDuration does: a month is 365.25 / 12 days, in double arithmetic.
     */
    static long intervalMicros(byte[] t, int off, int len) {
        String s = new String(t, off, len, StandardCharsets.US_ASCII);
        int years = 0;
        int months = 0;
        int days = 0;
        int hours = 0;
        int minutes = 0;
        double seconds = 0;
        String[] parts = s.trim().split(" +");
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.indexOf(':') >= 0) {
                int sign = p.startsWith("-") ? -1 : 1;
                String[] hms = p.replace("+", "").replace("-", "").split(":");
                hours = sign * Integer.parseInt(hms[0]);
                minutes = sign * Integer.parseInt(hms[1]);
                seconds = hms.length > 2 ? sign * Double.parseDouble(hms[2]) : 0;
            } else if (i + 1 < parts.length) {
                int n = Integer.parseInt(p.replace("+", ""));
                String unit = parts[++i];
                if (unit.startsWith("year")) {
                    years = n;
                } else if (unit.startsWith("mon")) {
                    months = n;
                } else if (unit.startsWith("day")) {
                    days = n;
                } else {
                    throw new EventEncodingException("interval '" + s + "' has an unknown unit " + unit);
                }
            } else {
                throw new EventEncodingException("interval '" + s + "' is not in IntervalStyle postgres");
            }
        }
        double numberOfDays = ((years * 12) + months) * DAYS_PER_MONTH_AVG + days;
        double numberOfSeconds = (((numberOfDays * 24 + hours) * 60) + minutes) * 60 + seconds;
        return (long) (numberOfSeconds * 1e6);
    }

    private static void writeMicroDuration(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(intervalMicros(t, off, len));
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
