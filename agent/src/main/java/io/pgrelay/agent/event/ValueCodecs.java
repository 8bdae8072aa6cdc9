package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;

/**
 * Chooses the {@link ValueCodec} for a type, following the value mapping in DESIGN.md, and holds
 * the simple ones. PostgreSQL's text output is assumed to be rendered with {@code TimeZone=UTC},
 * {@code DateStyle=ISO}, {@code IntervalStyle=postgres} and {@code bytea_output=hex}.
 */
public final class ValueCodecs {

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);

    /** The text form as a JSON string: text, varchar, enum, uuid, inet, interval, ranges… */
    public static final ValueCodec STRING = (text, off, len, out) -> out.writeString(text, off, len);

    /** Integers: PostgreSQL's output is already a JSON number. */
    public static final ValueCodec NUMBER = (text, off, len, out) -> out.write(text, off, len);

    /** json and jsonb: PostgreSQL checked the text is JSON; it is embedded as it is. */
    public static final ValueCodec RAW_JSON = NUMBER;

    private static final byte[] NEGATIVE_ZERO = "-0.0".getBytes(StandardCharsets.US_ASCII);

    /**
     * float4 and float8: a number as PostgreSQL renders it ({@code -0} included, as DESIGN.md maps
     * it), except NaN, Infinity and -Infinity, which JSON lacks: strings.
     */
    public static final ValueCodec FLOAT = (text, off, len, out) -> {
        byte first = len > 0 ? text[off] : 0;
        if (first == 'N' || first == 'I' || (first == '-' && len > 1 && text[off + 1] == 'I')) {
            out.writeString(text, off, len);
        } else {
            out.write(text, off, len);
        }
    };

    /**
     * float4 and float8 in Debezium's envelope: as {@link #FLOAT}, but a negative zero is written
     * {@code -0.0}, as Kafka Connect's JsonConverter writes it (JSON parsers, Jackson among them, read
     * {@code -0} as the integer 0).
     */
    public static final ValueCodec FLOAT_SIGNED_ZERO = (text, off, len, out) -> {
        if (len == 2 && text[off] == '-' && text[off + 1] == '0') {
            out.write(NEGATIVE_ZERO);
        } else {
            FLOAT.write(text, off, len, out);
        }
    };

    /** bool: PostgreSQL writes {@code t} or {@code f}. */
    public static final ValueCodec BOOL = (text, off, len, out) -> {
        if (len == 1 && text[off] == 't') {
            out.write(TRUE);
        } else if (len == 1 && text[off] == 'f') {
            out.write(FALSE);
        } else {
            throw new EventEncodingException("bool value '" + new String(text, off, len, StandardCharsets.UTF_8)
                    + "' is neither t nor f");
        }
    };

    private ValueCodecs() {
    }

    /**
     * The codec for values of type {@code oid}: domains map as their base type, arrays element by
     * element. Asks {@code types} about non-built-in types (and their bases and elements).
     */
    public static ValueCodec forType(int oid, TypeCatalog types) {
        TypeInfo type = types.type(oid);
        for (int depth = 0; type.kind() == TypeInfo.Kind.DOMAIN; depth++) {
            if (depth > 32) {
                throw new EventEncodingException("domain " + type.name() + " nests more than 32 domains");
            }
            type = types.type(type.baseOid());
        }
        return switch (type.kind()) {
            case BASE -> forBuiltin(type.oid());
            case ARRAY -> {
                TypeInfo element = resolveDomain(types.type(type.elementOid()), types);
                yield new ArrayCodec(forType(type.elementOid(), types), element.delimiter());
            }
            default -> STRING;
        };
    }

    private static TypeInfo resolveDomain(TypeInfo type, TypeCatalog types) {
        // An array of a domain is written with the delimiter of the domain's base type.
        for (int depth = 0; type.kind() == TypeInfo.Kind.DOMAIN && depth < 32; depth++) {
            type = types.type(type.baseOid());
        }
        return type;
    }

    private static ValueCodec forBuiltin(int oid) {
        return switch (oid) {
            case BuiltinTypes.INT2, BuiltinTypes.INT4, BuiltinTypes.INT8 -> NUMBER;
            case BuiltinTypes.FLOAT4, BuiltinTypes.FLOAT8 -> FLOAT;
            case BuiltinTypes.BOOL -> BOOL;
            case BuiltinTypes.JSON, BuiltinTypes.JSONB -> RAW_JSON;
            case BuiltinTypes.BYTEA -> ByteaCodec.INSTANCE;
            case BuiltinTypes.DATE -> TimestampCodecs.DATE;
            case BuiltinTypes.TIMESTAMP -> TimestampCodecs.TIMESTAMP;
            case BuiltinTypes.TIMESTAMPTZ -> TimestampCodecs.TIMESTAMPTZ;
            // numeric is a string to stay exact.
            default -> STRING;
        };
    }
}
