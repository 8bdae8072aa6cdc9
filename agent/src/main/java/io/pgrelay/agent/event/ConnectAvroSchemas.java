package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kafka Connect schemas, as JsonConverter writes them ({@code {"type":"struct","fields":[…],
 * "optional":false,"name":…}}), turned into the Avro schemas that Confluent's AvroConverter
 * ({@code AvroData.fromConnectSchema}, {@code connect.meta.data=true}) makes of them — what a
 * Debezium connector with AvroConverter registers:
 * <ul>
 *   <li>a struct is a record named by its Connect name (namespace = the part before the last dot);
 *       a record met again is referred to by name</li>
 *   <li>an optional schema is the union {@code ["null", T]} with default null, or {@code [T, "null"]}
 *       when it has a default of its own (Debezium's {@code source.snapshot})</li>
 *   <li>{@code int8}/{@code int16} are Avro ints with {@code connect.type}; Connect's Decimal, Date,
 *       Time and Timestamp carry Avro's logical types</li>
 *   <li>{@code connect.doc}, {@code connect.version}, {@code connect.parameters},
 *       {@code connect.default} and {@code connect.name} keep the rest of the Connect schema</li>
 * </ul>
 * Names that Avro does not allow ({@code order-lines}, a column named {@code unit price}) have every
 * other character replaced by {@code _}, as Debezium's {@code schema.name.adjustment.mode=avro}
 * and {@code field.name.adjustment.mode=avro} do.
 *
 * <p>One instance per top-level schema: it remembers the records it has defined.
 */
final class ConnectAvroSchemas {

    /** Connect's default decimal precision in AvroData when the schema names none. */
    static final int DEFAULT_DECIMAL_PRECISION = 64;

    private final Map<String, Schema> records = new HashMap<>();

    private ConnectAvroSchemas() {
    }

    /** The Avro schema of one top-level Connect schema (a record key or value). */
    static Schema of(JsonNode connectSchema) {
        return new ConnectAvroSchemas().convert(connectSchema);
    }

    private Schema convert(JsonNode c) {
        Schema base = base(c);
        if (!c.path("optional").asBoolean(false)) {
            return base;
        }
        JsonNode defaultValue = c.get("default");
        Schema nullSchema = Schema.create(Schema.Type.NULL);
        return defaultValue != null && !defaultValue.isNull() && base.getType() != Schema.Type.RECORD
                ? Schema.createUnion(base, nullSchema) : Schema.createUnion(nullSchema, base);
    }

    private Schema base(JsonNode c) {
        String type = c.path("type").asText();
        String name = c.hasNonNull("name") ? c.get("name").asText() : null;
        String connectType = null;
        Schema base;
        switch (type) {
            case "int8", "int16" -> {
                connectType = type;
                base = Schema.create(Schema.Type.INT);
            }
            case "int32" -> base = Schema.create(Schema.Type.INT);
            case "int64" -> base = Schema.create(Schema.Type.LONG);
            case "float" -> base = Schema.create(Schema.Type.FLOAT);
            case "double" -> base = Schema.create(Schema.Type.DOUBLE);
            case "boolean" -> base = Schema.create(Schema.Type.BOOLEAN);
            case "string" -> base = Schema.create(Schema.Type.STRING);
            case "bytes" -> base = Schema.create(Schema.Type.BYTES);
            case "array" -> base = Schema.createArray(convert(c.path("items")));
            case "struct" -> {
                Schema known = name == null ? null : records.get(name);
                if (known != null) {
                    return known;
                }
                base = record(c, name);
            }
            default -> throw new IllegalArgumentException("Connect type '" + type + "' has no Avro schema in this build");
        }
        addConnectProperties(base, c, name, connectType);
        if ("org.apache.kafka.connect.data.Decimal".equals(name)) {
            JsonNode p = c.path("parameters");
            int scale = Integer.parseInt(p.path("scale").asText("0"));
            int precision = p.has("connect.decimal.precision")
                    ? Integer.parseInt(p.get("connect.decimal.precision").asText()) : DEFAULT_DECIMAL_PRECISION;
            LogicalTypes.decimal(precision, scale).addToSchema(base);
        } else if ("org.apache.kafka.connect.data.Date".equals(name)) {
            LogicalTypes.date().addToSchema(base);
        } else if ("org.apache.kafka.connect.data.Time".equals(name)) {
            LogicalTypes.timeMillis().addToSchema(base);
        } else if ("org.apache.kafka.connect.data.Timestamp".equals(name)) {
            LogicalTypes.timestampMillis().addToSchema(base);
        }
        return base;
    }

    private Schema record(JsonNode c, String connectName) {
        String full = connectName == null ? "io.confluent.connect.avro.ConnectDefault" : avroFullName(connectName);
        int dot = full.lastIndexOf('.');
        Schema record = Schema.createRecord(full.substring(dot + 1), null, dot < 0 ? null : full.substring(0, dot), false);
        if (connectName != null) {
            records.put(connectName, record);   // before the fields: a field may refer to it
        }
        List<Schema.Field> fields = new ArrayList<>();
        for (JsonNode f : c.path("fields")) {
            Schema schema = convert(f);
            JsonNode defaultValue = f.get("default");
            Object avroDefault = null;
            if (defaultValue != null && !defaultValue.isNull()) {
                avroDefault = toDefault(defaultValue);
            } else if (f.path("optional").asBoolean(false)) {
                avroDefault = JsonProperties.NULL_VALUE;
            }
            fields.add(new Schema.Field(avroName(f.path("field").asText()), schema, null, avroDefault));
        }
        record.setFields(fields);
        return record;
    }

    /** {@code connect.doc}, {@code connect.version}, {@code connect.parameters}, {@code connect.default}, {@code connect.name}, {@code connect.type}: AvroData's order. */
    private static void addConnectProperties(Schema s, JsonNode c, String name, String connectType) {
        if (c.hasNonNull("doc")) {
            s.addProp("connect.doc", c.get("doc").asText());
        }
        if (c.hasNonNull("version")) {
            s.addProp("connect.version", c.get("version").asInt());
        }
        JsonNode parameters = c.get("parameters");
        if (parameters != null && parameters.isObject() && !parameters.isEmpty()) {
            s.addProp("connect.parameters", toDefault(parameters));
        }
        JsonNode defaultValue = c.get("default");
        if (defaultValue != null && !defaultValue.isNull()) {
            s.addProp("connect.default", toDefault(defaultValue));
        }
        if (name != null) {
            s.addProp("connect.name", name);
        }
        if (connectType != null) {
            s.addProp("connect.type", connectType);
        }
    }

    /** A JSON value as the Java object Avro takes for a default or a property (maps, lists, strings, numbers). */
    private static Object toDefault(JsonNode v) {
        if (v.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                map.put(e.getKey(), toDefault(e.getValue()));
            }
            return map;
        }
        if (v.isArray()) {
            List<Object> list = new ArrayList<>();
            v.forEach(e -> list.add(toDefault(e)));
            return list;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToInt() ? (Object) v.asInt() : (Object) v.asLong();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        return JsonProperties.NULL_VALUE;
    }

    /** A dotted Connect name with each part made a valid Avro name. */
    static String avroFullName(String connectName) {
        String[] parts = connectName.split("\\.", -1);
        StringBuilder sb = new StringBuilder(connectName.length());
        for (int i = 0; i < parts.length; i++) {
            sb.append(i > 0 ? "." : "").append(avroName(parts[i]));
        }
        return sb.toString();
    }

    /** {@code [A-Za-z_][A-Za-z0-9_]*}: every other character becomes {@code _}, and a leading digit gets one before it. */
    static String avroName(String name) {
        if (name.isEmpty()) {
            return "_";
        }
        StringBuilder sb = null;
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            boolean ok = ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (i > 0 && ch >= '0' && ch <= '9');
            if (!ok && sb == null) {
                sb = new StringBuilder(name.length() + 1).append(name, 0, i);
            }
            if (sb != null) {
                if (i == 0 && ch >= '0' && ch <= '9') {
                    sb.append('_').append(ch);
                } else {
                    sb.append(ok ? ch : '_');
                }
            }
        }
        return sb == null ? name : sb.toString();
    }
}
