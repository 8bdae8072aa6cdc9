package io.pgrelay.agent.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.event.JsonBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes the records of the schema topic, and reads schema events back:
 * <pre>{"op":"schema","table":"public.orders","replicaIdentity":"default",
 *  "columns":[{"name":"id","type":"int4","typeOid":23,"typmod":-1,"key":true},…],
 *  "previous":[…] or null,"changes":[{"change":"added","column":"note","from":null,"to":"text"}],
 *  "lsn":"0/1A2B3C4","commitLsn":"0/1A2B400","xid":771,"seq":3,"committedAt":"…","cluster":"demo"}
 * {"op":"ddl","tag":"ALTER TABLE","objects":[{"type":"table","identity":"public.orders"}],
 *  "ddl":"ALTER TABLE orders ADD note text","user":"app","lsn":…,"commitLsn":…,"xid":…,"seq":…,"committedAt":…,"cluster":"demo"}</pre>
 * Schema events are rare, so clarity wins over the allocation-free path of row events.
 */
public final class SchemaEvents {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where an event stands in the stream; the same fields as a row event's. */
    public record At(Lsn lsn, Lsn commitLsn, long xid, long seq, long committedAtMicros) {
    }

    /** A DDL statement as the event trigger installed by {@code init --ddl} describes it. */
    public record Ddl(String cluster, String tag, String ddl, String user, String objectsJson) {
    }

    private final String cluster;

    public SchemaEvents(String cluster) {
        this.cluster = cluster;
    }

    /** The key of a table's schema events: its name, {@code schema.table}, as UTF-8 text. */
    public static byte[] schemaKey(TableSchema schema) {
        return schema.table().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The key of a DDL event: {@code ddl:<commitLsn>#<seq>}. Unique, so that compaction of the schema
     * topic never removes one DDL event for a later one.
     */
    public static byte[] ddlKey(At at) {
        return ("ddl:" + at.commitLsn() + "#" + at.seq()).getBytes(StandardCharsets.UTF_8);
    }

    public byte[] schema(TableSchema schema, TableSchema previous, At at) {
        JsonBuffer out = new JsonBuffer(512);
        out.write(ascii("{\"op\":\"schema\",\"table\":"));
        out.writeString(schema.table());
        out.write(ascii(",\"replicaIdentity\":"));
        out.writeString(schema.replicaIdentityName());
        out.write(ascii(",\"columns\":"));
        writeColumns(schema.columns(), out);
        out.write(ascii(",\"previous\":"));
        if (previous == null) {
            out.writeNull();
        } else {
            writeColumns(previous.columns(), out);
        }
        out.write(ascii(",\"changes\":["));
        List<SchemaChange> changes = SchemaChange.between(previous, schema);
        for (int i = 0; i < changes.size(); i++) {
            SchemaChange c = changes.get(i);
            out.write(ascii(i == 0 ? "{\"change\":" : ",{\"change\":"));
            out.writeString(c.change());
            out.write(ascii(",\"column\":"));
            writeNullable(c.column(), out);
            out.write(ascii(",\"from\":"));
            writeNullable(c.from(), out);
            out.write(ascii(",\"to\":"));
            writeNullable(c.to(), out);
            out.write((byte) '}');
        }
        out.write((byte) ']');
        writeTail(at, out);
        return out.toByteArray();
    }

    public byte[] ddl(Ddl ddl, At at) {
        JsonBuffer out = new JsonBuffer(256 + ddl.ddl().length());
        out.write(ascii("{\"op\":\"ddl\",\"tag\":"));
        writeNullable(ddl.tag(), out);
        out.write(ascii(",\"objects\":"));
        out.write(ddl.objectsJson().getBytes(StandardCharsets.UTF_8));
        out.write(ascii(",\"ddl\":"));
        writeNullable(ddl.ddl(), out);
        out.write(ascii(",\"user\":"));
        writeNullable(ddl.user(), out);
        writeTail(at, out);
        return out.toByteArray();
    }

    /**
     * Reads the content of a {@code pgrelay.ddl} logical decoding message, a JSON object with
     * {@code cluster}, {@code tag}, {@code ddl}, {@code user} and {@code objects}.
     *
     * @throws IllegalArgumentException when it is not such an object
     */
    public static Ddl parseDdlMessage(byte[] content) {
        JsonNode n;
        try {
            n = JSON.readTree(content);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject() || !n.path("ddl").isTextual()) {
            throw new IllegalArgumentException("expected a JSON object with a \"ddl\" text, got "
                    + new String(content, StandardCharsets.UTF_8));
        }
        JsonNode objects = n.path("objects");
        return new Ddl(textOrNull(n, "cluster"), textOrNull(n, "tag"), n.get("ddl").asText(), textOrNull(n, "user"),
                objects.isArray() ? objects.toString() : "[]");
    }

    /**
     * The table shape a schema event published, or null when the record is something else (a DDL
     * event, a tombstone).
     *
     * @throws IllegalArgumentException when the record claims to be a schema event but is not readable as one
     */
    public static TableSchema parseSchema(byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(value);
            if (n == null || !"schema".equals(n.path("op").asText())) {
                return null;
            }
            List<TableSchema.Column> columns = new ArrayList<>();
            for (JsonNode c : n.get("columns")) {
                columns.add(new TableSchema.Column(c.get("name").asText(), c.path("type").asText(),
                        c.get("typeOid").asInt(), c.get("typmod").asInt(), c.get("key").asBoolean()));
            }
            return new TableSchema(n.get("table").asText(), TableSchema.identityCode(n.get("replicaIdentity").asText()), columns);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("unreadable schema event: " + new String(value, StandardCharsets.UTF_8), e);
        }
    }

    private static String textOrNull(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static void writeColumns(List<TableSchema.Column> columns, JsonBuffer out) {
        out.write((byte) '[');
        for (int i = 0; i < columns.size(); i++) {
            TableSchema.Column c = columns.get(i);
            out.write(ascii(i == 0 ? "{\"name\":" : ",{\"name\":"));
            out.writeString(c.name());
            out.write(ascii(",\"type\":"));
            out.writeString(c.type());
            out.write(ascii(",\"typeOid\":"));
            out.writeLong(c.typeOid());
            out.write(ascii(",\"typmod\":"));
            out.writeLong(c.typeModifier());
            out.write(ascii(c.key() ? ",\"key\":true}" : ",\"key\":false}"));
        }
        out.write((byte) ']');
    }

    private void writeTail(At at, JsonBuffer out) {
        out.write(ascii(",\"lsn\":"));
        out.writeLsn(at.lsn().value());
        out.write(ascii(",\"commitLsn\":"));
        out.writeLsn(at.commitLsn().value());
        out.write(ascii(",\"xid\":"));
        out.writeLong(at.xid());
        out.write(ascii(",\"seq\":"));
        out.writeLong(at.seq());
        out.write(ascii(",\"committedAt\":"));
        out.writeInstantMicros(at.committedAtMicros());
        out.write(ascii(",\"cluster\":"));
        out.writeString(cluster);
        out.write((byte) '}');
    }

    private static void writeNullable(String s, JsonBuffer out) {
        if (s == null) {
            out.writeNull();
        } else {
            out.writeString(s);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
