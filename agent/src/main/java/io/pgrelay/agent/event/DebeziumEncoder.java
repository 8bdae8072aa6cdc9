package io.pgrelay.agent.event;

import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Encodes row events as Debezium's PostgreSQL connector does (docs/formats.md): key = the key
 * columns as a struct, value = {@code {before, after, source, transaction, op, ts_ms, ts_us, ts_ns}},
 * as Kafka Connect's JsonConverter writes them — with {@code schemas.enable=true}
 * ({@code {"schema":…,"payload":…}}) when {@code withSchemas}.
 *
 * <p>The schemas are built once per Relation message, as bytes; an event writes only its payload,
 * straight into one reused buffer, like {@link EventEncoder}.
 *
 * <p>Single-threaded: one encoder per pipeline thread.
 */
public final class DebeziumEncoder implements RowEncoder {

    private static final byte[] BEFORE = ascii("{\"before\":");
    private static final byte[] AFTER = ascii(",\"after\":");
    private static final byte[] TS_MS_SOURCE = ascii(",\"ts_ms\":");
    private static final byte[] SNAPSHOT_FALSE = ascii(",\"snapshot\":\"false\"");
    private static final byte[] SNAPSHOT_TRUE = ascii(",\"snapshot\":\"true\"");
    private static final byte[] SEQUENCE_OPEN = ascii(",\"sequence\":\"[");
    private static final byte[] SEQUENCE_NULL = ascii("null");
    private static final byte[] TS_US = ascii(",\"ts_us\":");
    private static final byte[] TS_NS = ascii(",\"ts_ns\":");
    private static final byte[] TX_ID = ascii(",\"txId\":");
    private static final byte[] LSN = ascii(",\"lsn\":");
    private static final byte[] SOURCE_TAIL = ascii(",\"xmin\":null,\"origin\":null,\"origin_lsn\":null}");
    private static final byte[] TRANSACTION_OP = ascii(",\"transaction\":null,\"op\":");
    private static final byte[] TS_MS = ascii(",\"ts_ms\":");
    private static final byte[] PAYLOAD = ascii(",\"payload\":");

    private final FormatConfig.Debezium settings;
    private final boolean withSchemas;
    private final String topicPrefix;
    private final Function<TableId, String> topicOf;
    private final byte[] sourceHead;   // ,"source":{"version":…,"connector":"postgresql","name":…
    private final byte[] db;           // ,"db":"app"
    private final String sourceSchema;
    private final TypeCatalog types;
    private final DebeziumTypes mappings;
    private final Map<Integer, Table> tables = new HashMap<>();
    private final Map<TableId, List<String>> primaryKeys = new HashMap<>();
    private final JsonBuffer buffer = new JsonBuffer(4096);
    /** Debezium's "last commit LSN" of {@code source.sequence}: the commit of the transaction before the current one. */
    private long lastCommitLsn = -1;
    private long currentCommitLsn = -1;

    /**
     * @param topicPrefix Debezium's {@code topic.prefix}: {@code source.name} and the schema names' prefix
     * @param database    {@code source.db}
     * @param topicOf     the table's topic, which names the envelope schema ({@code <topic>.Envelope})
     */
    public DebeziumEncoder(FormatConfig.Debezium settings, boolean withSchemas, String topicPrefix, String database,
                           Function<TableId, String> topicOf, TypeCatalog types) {
        this.settings = settings;
        this.withSchemas = withSchemas;
        this.topicPrefix = topicPrefix;
        this.topicOf = topicOf;
        this.types = types;
        this.mappings = new DebeziumTypes(settings, types);
        this.sourceHead = utf8(",\"source\":{\"version\":" + DebeziumTypes.quote(settings.sourceVersion())
                + ",\"connector\":\"postgresql\",\"name\":" + DebeziumTypes.quote(topicPrefix));
        this.db = utf8(",\"db\":" + DebeziumTypes.quote(database));
        this.sourceSchema = sourceSchema();
    }

    @Override
    public TypeCatalog types() {
        return types;
    }

    @Override
    public void setPrimaryKey(TableId table, List<String> columns) {
        primaryKeys.put(table, List.copyOf(columns));
        tables.values().stream().map(t -> t.relation).filter(r -> r.tableId().equals(table)).toList().forEach(this::register);
    }

    @Override
    public void register(Relation relation) {
        tables.put(relation.relationId(), new Table(relation, primaryKeys.get(relation.tableId())));
    }

    @Override
    public boolean writes(Op op) {
        return op != Op.TRUNCATE || settings.truncates();
    }

    @Override
    public byte[] key(ChangeEvent event) {
        Table table = tableFor(event);
        if (table.keyColumns.length == 0 || event.op() == Op.TRUNCATE) {
            return null;
        }
        try {
            buffer.reset();
            if (withSchemas) {
                buffer.write(table.keySchema);
            }
            TupleData row = event.op() == Op.DELETE ? require(event, event.before(), "before") : require(event, event.after(), "after");
            TupleData fallback = event.op() == Op.DELETE ? null : event.before();
            table.writeKey(row, fallback, buffer);
            if (withSchemas) {
                buffer.write((byte) '}');
            }
            return buffer.toByteArray();
        } catch (EventEncodingException e) {
            throw located(e, event);
        }
    }

    @Override
    public byte[] value(ChangeEvent event) {
        Table table = tableFor(event);
        try {
            return encodeValue(event, table);
        } catch (EventEncodingException e) {
            throw located(e, event);
        }
    }

    private byte[] encodeValue(ChangeEvent event, Table table) {
        long commit = event.commitLsn().value();
        if (commit != currentCommitLsn) {
            lastCommitLsn = currentCommitLsn;
            currentCommitLsn = commit;
        }
        JsonBuffer out = buffer;
        out.reset();
        if (withSchemas) {
            out.write(table.valueSchema);
        }
        out.write(BEFORE);
        TupleData before = event.op() == Op.UPDATE || event.op() == Op.DELETE ? event.before() : null;
        if (before != null) {
            table.writeRow(before, null, out);
        } else {
            out.writeNull();
        }
        out.write(AFTER);
        TupleData after = event.op() == Op.DELETE || event.op() == Op.TRUNCATE ? null : event.after();
        if (after != null) {
            table.writeRow(after, before, out);
        } else {
            out.writeNull();
        }
        long commitMicros = event.committedAtMicros();
        out.write(sourceHead);
        out.write(TS_MS_SOURCE);
        out.writeLong(Math.floorDiv(commitMicros, 1000));
        out.write(event.op() == Op.SNAPSHOT ? SNAPSHOT_TRUE : SNAPSHOT_FALSE);
        out.write(db);
        out.write(SEQUENCE_OPEN);
        if (lastCommitLsn < 0) {
            out.write(SEQUENCE_NULL);
        } else {
            writeEscapedQuotedLong(lastCommitLsn, out);
        }
        out.write((byte) ',');
        writeEscapedQuotedLong(event.lsn().value(), out);
        out.write((byte) ']');
        out.write((byte) '"');
        out.write(TS_US);
        out.writeLong(commitMicros);
        out.write(TS_NS);
        out.writeLong(commitMicros * 1000);
        out.write(table.schemaAndTable);
        out.write(TX_ID);
        out.writeLong(event.xid());
        out.write(LSN);
        out.writeLong(event.lsn().value());
        out.write(SOURCE_TAIL);
        out.write(TRANSACTION_OP);
        out.write(opCode(event.op()));
        Instant now = Instant.now();
        long nowMicros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
        out.write(TS_MS);
        out.writeLong(now.toEpochMilli());
        out.write(TS_US);
        out.writeLong(nowMicros);
        out.write(TS_NS);
        out.writeLong(now.getEpochSecond() * 1_000_000_000L + now.getNano());
        out.write((byte) '}');
        if (withSchemas) {
            out.write((byte) '}');
        }
        return out.toByteArray();
    }

    /** {@code \"123\"}: a JSON string inside the JSON string {@code sequence}. */
    private static void writeEscapedQuotedLong(long v, JsonBuffer out) {
        out.write((byte) '\\');
        out.write((byte) '"');
        out.writeLong(v);
        out.write((byte) '\\');
        out.write((byte) '"');
    }

    private static final byte[] OP_C = ascii("\"c\"");
    private static final byte[] OP_U = ascii("\"u\"");
    private static final byte[] OP_D = ascii("\"d\"");
    private static final byte[] OP_R = ascii("\"r\"");
    private static final byte[] OP_T = ascii("\"t\"");

    private static byte[] opCode(Op op) {
        return switch (op) {
            case INSERT -> OP_C;
            case UPDATE -> OP_U;
            case DELETE -> OP_D;
            case SNAPSHOT -> OP_R;
            case TRUNCATE -> OP_T;
        };
    }

    /**
     * The Connect schemas of a relation's record key ({@code null} when its rows have none) and
     * value, as JsonConverter writes them: what {@link AvroEncoder} turns into Avro schemas.
     */
    record ConnectSchemas(String key, String value) {
    }

    ConnectSchemas connectSchemas(Relation relation) {
        Table table = tableFor(relation);
        return new ConnectSchemas(table.keyColumns.length == 0 ? null : table.keyConnectSchema, table.valueConnectSchema);
    }

    private Table tableFor(ChangeEvent event) {
        return tableFor(event.relation());
    }

    private Table tableFor(Relation relation) {
        Table table = tables.get(relation.relationId());
        if (table == null || (table.relation != relation && !table.relation.equals(relation))) {
            register(relation);
            table = tables.get(relation.relationId());
        }
        return table;
    }

    private static EventEncodingException located(EventEncodingException e, ChangeEvent event) {
        return new EventEncodingException(e.getMessage() + " (" + event.op().jsonName() + " at LSN " + event.lsn()
                + ", xid " + event.xid() + ")");
    }

    private static TupleData require(ChangeEvent event, TupleData tuple, String which) {
        if (tuple == null) {
            throw new EventEncodingException("a " + event.op().jsonName() + " of " + event.relation().tableId()
                    + " has no " + which + " tuple");
        }
        return tuple;
    }

    /** io.debezium.connector.postgresql.Source as Debezium 3.6 defines it (PostgresSourceInfoStructMaker). */
    private static String sourceSchema() {
        return "{\"type\":\"struct\",\"fields\":["
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
                + "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
                + "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":"
                + "{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"},"
                + "\"default\":\"false\",\"field\":\"snapshot\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
                + "{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
                + "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
                + "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
                + "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
                + "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
                + "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"},"
                + "{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"},"
                + "{\"type\":\"int64\",\"optional\":true,\"field\":\"origin_lsn\"}"
                + "],\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,\"field\":\"source\"}";
    }

    /** One relation's columns: names, mappings, key columns and the schemas, encoded once. */
    private final class Table {
        final Relation relation;
        final byte[][] fieldNames;        // "name":
        final DebeziumTypes.Mapping[] columns;
        final byte[][] unavailable;       // the placeholder as the column's JSON value
        final int[] keyColumns;
        final byte[] keySchema;           // {"schema":{…},"payload":
        final byte[] valueSchema;
        final byte[] schemaAndTable;      // ,"schema":"public","table":"orders"
        final String keyConnectSchema;    // {"type":"struct",…}
        final String valueConnectSchema;

        Table(Relation relation, List<String> primaryKey) {
            this.relation = relation;
            List<Relation.Column> cols = relation.columns();
            int n = cols.size();
            fieldNames = new byte[n][];
            columns = new DebeziumTypes.Mapping[n];
            unavailable = new byte[n][];
            List<Integer> identity = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Relation.Column c = cols.get(i);
                fieldNames[i] = utf8(DebeziumTypes.quote(c.name()) + ":");
                columns[i] = mappings.forColumn(c.typeOid(), c.typeModifier());
                unavailable[i] = placeholder(columns[i]);
                if (c.key()) {
                    identity.add(i);
                }
            }
            int[] ids = identity.stream().mapToInt(Integer::intValue).toArray();
            if (relation.replicaIdentity() == Relation.IDENTITY_FULL) {
                // Debezium's key is the primary key: a FULL table without one has no key.
                keyColumns = primaryKey == null ? new int[0] : RelationColumns.indexesOf(relation, primaryKey);
            } else {
                keyColumns = ids;
            }
            String prefix = topicPrefix + "." + relation.namespace() + "." + relation.name();
            StringBuilder key = new StringBuilder("{\"schema\":{\"type\":\"struct\",\"fields\":[");
            for (int k = 0; k < keyColumns.length; k++) {
                int i = keyColumns[k];
                key.append(k > 0 ? "," : "").append(columns[i].field(cols.get(i).name(), false));
            }
            key.append("],\"optional\":false,\"name\":").append(DebeziumTypes.quote(prefix + ".Key")).append("}");
            keySchema = utf8(key + ",\"payload\":");
            keyConnectSchema = key.substring("{\"schema\":".length());
            StringBuilder row = new StringBuilder("{\"type\":\"struct\",\"fields\":[");
            for (int i = 0; i < n; i++) {
                boolean isKey = contains(keyColumns, i);
                row.append(i > 0 ? "," : "").append(columns[i].field(cols.get(i).name(), !isKey));
            }
            row.append("],\"optional\":true,\"name\":").append(DebeziumTypes.quote(prefix + ".Value"));
            String value = "{\"schema\":{\"type\":\"struct\",\"fields\":["
                    + row + ",\"field\":\"before\"}," + row + ",\"field\":\"after\"}," + sourceSchema + ","
                    + "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
                    + "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
                    + "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
                    + "\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"},"
                    + "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                    + "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
                    + "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
                    + "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}"
                    + "],\"optional\":false,\"name\":" + DebeziumTypes.quote(topicOf.apply(relation.tableId()) + ".Envelope")
                    + ",\"version\":2}";
            valueSchema = utf8(value + ",\"payload\":");
            valueConnectSchema = value.substring("{\"schema\":".length());
            schemaAndTable = utf8(",\"schema\":" + DebeziumTypes.quote(relation.namespace()) + ",\"table\":"
                    + DebeziumTypes.quote(relation.name()));
        }

        private byte[] placeholder(DebeziumTypes.Mapping m) {
            byte[] p = settings.unavailableValuePlaceholder().getBytes(StandardCharsets.UTF_8);
            JsonBuffer b = new JsonBuffer(p.length * 2 + 8);
            if (m.type().startsWith("\"type\":\"bytes\"")) {
                b.writeBase64(p, 0, p.length);     // Debezium writes the placeholder's bytes in a binary column
            } else if (m.type().startsWith("\"type\":\"array\"")) {
                b.write((byte) '[');
                b.writeString(p, 0, p.length);
                b.write((byte) ']');
            } else {
                b.writeString(p, 0, p.length);
            }
            return b.toByteArray();
        }

        void writeKey(TupleData row, TupleData fallback, JsonBuffer out) {
            RelationColumns.checkWidth(relation, columns.length, row);
            out.write((byte) '{');
            for (int k = 0; k < keyColumns.length; k++) {
                int i = keyColumns[k];
                TupleData source = row;
                if (row.isUnchangedToast(i)) {
                    if (fallback == null || fallback.isUnchangedToast(i)) {
                        throw new EventEncodingException("key column " + relation.columns().get(i).name() + " of "
                                + relation.tableId() + " is an unchanged TOAST value that PostgreSQL did not send");
                    }
                    source = fallback;
                }
                if (k > 0) {
                    out.write((byte) ',');
                }
                out.write(fieldNames[i]);
                writeValue(source, i, out);
            }
            out.write((byte) '}');
        }

        /**
         * Every column: a value, null, or for an unchanged TOAST value the old row's value when
         * {@code old} has it (REPLICA IDENTITY FULL: PostgreSQL sends the whole old row, detoasted),
         * else the placeholder — what Debezium's PostgreSQL connector does (DBZ-3835).
         */
        void writeRow(TupleData row, TupleData old, JsonBuffer out) {
            RelationColumns.checkWidth(relation, columns.length, row);
            out.write((byte) '{');
            for (int i = 0; i < columns.length; i++) {
                if (i > 0) {
                    out.write((byte) ',');
                }
                out.write(fieldNames[i]);
                boolean fromOld = row.isUnchangedToast(i) && old != null && old.size() == row.size() && old.kind(i) == TupleData.TEXT;
                writeValue(fromOld ? old : row, i, out);
            }
            out.write((byte) '}');
        }

        private void writeValue(TupleData row, int i, JsonBuffer out) {
            switch (row.kind(i)) {
                case TupleData.TEXT -> {
                    try {
                        columns[i].codec().write(row.buffer(), row.offset(i), row.length(i), out);
                    } catch (EventEncodingException | IllegalArgumentException | ArithmeticException e) {
                        throw new EventEncodingException("column " + relation.columns().get(i).name() + " of "
                                + relation.tableId() + ": " + e.getMessage());
                    }
                }
                case TupleData.NULL -> out.writeNull();
                case TupleData.UNCHANGED_TOAST -> out.write(unavailable[i]);
                default -> throw new EventEncodingException("column " + relation.columns().get(i).name() + " of "
                        + relation.tableId() + " has kind '" + (char) row.kind(i) + "' where a text value was expected");
            }
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
