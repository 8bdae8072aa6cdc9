package io.pgrelay.agent.event;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes {@link ChangeEvent}s as the Kafka record key and value that DESIGN.md specifies:
 * <pre>{"op":"update","table":"public.orders","key":{"id":42},"before":…,"after":…,"unchanged":[…],
 * "lsn":"0/1A2B3C4","commitLsn":"0/1A2B400","xid":771,"seq":3,"committedAt":"2026-11-22T10:15:30.123456Z","cluster":"demo"}</pre>
 *
 * <p>{@link #register} a relation when its Relation message arrives: that chooses one converter
 * per column (asking the {@link TypeCatalog}, which may do I/O) so that encoding a row does none.
 * An event whose relation was not registered — or was registered as another Relation message —
 * registers it on the spot.
 *
 * <p>Key columns: those the Relation message flags (the replica identity). Under REPLICA
 * IDENTITY FULL PostgreSQL flags every column, so the key is then the primary key given with
 * {@link #setPrimaryKey}, or every column when none was given.
 *
 * <p>Single-threaded: one encoder per pipeline thread; it reuses one buffer for every event.
 */
public final class EventEncoder implements RowEncoder {

    private static final byte[] OP = ascii("{\"op\":");
    private static final byte[] TABLE = ascii(",\"table\":");
    private static final byte[] KEY = ascii(",\"key\":");
    private static final byte[] BEFORE = ascii(",\"before\":");
    private static final byte[] AFTER = ascii(",\"after\":");
    private static final byte[] UNCHANGED = ascii(",\"unchanged\":");
    private static final byte[] LSN = ascii(",\"lsn\":");
    private static final byte[] COMMIT_LSN = ascii(",\"commitLsn\":");
    private static final byte[] XID = ascii(",\"xid\":");
    private static final byte[] SEQ = ascii(",\"seq\":");
    private static final byte[] COMMITTED_AT = ascii(",\"committedAt\":");

    private final byte[] clusterTail;   // ,"cluster":"demo"}
    private final TypeCatalog types;
    private final Map<Integer, RelationCodec> codecs = new HashMap<>();
    private final Map<TableId, List<String>> primaryKeys = new HashMap<>();
    private final JsonBuffer buffer = new JsonBuffer(4096);

    public EventEncoder(String cluster, TypeCatalog types) {
        JsonBuffer tail = new JsonBuffer(64);
        tail.write(ascii(",\"cluster\":"));
        tail.writeString(cluster);
        tail.write((byte) '}');
        this.clusterTail = tail.toByteArray();
        this.types = types;
    }

    @Override
    public TypeCatalog types() {
        return types;
    }

    /**
     * The primary key of a table, used as the event key when the table has REPLICA IDENTITY FULL.
     * Takes effect for a relation registered afterwards, and re-registers one already known.
     */
    @Override
    public void setPrimaryKey(TableId table, List<String> columns) {
        primaryKeys.put(table, List.copyOf(columns));
        codecs.values().stream().map(RelationCodec::relation).filter(r -> r.tableId().equals(table)).toList()
                .forEach(this::register);
    }

    /** Prepares encoding of the relation's rows; replaces what an earlier Relation message with its id said. */
    @Override
    public void register(Relation relation) {
        codecs.put(relation.relationId(), new RelationCodec(relation, primaryKeys.get(relation.tableId()), types));
    }

    /**
     * The Kafka record key, {@code {"id":42}}; null when the table has no key, and for truncates.
     *
     * @throws EventEncodingException naming table, column and LSN when a value cannot be encoded
     */
    @Override
    public byte[] key(ChangeEvent event) {
        try {
            return encodeKey(event);
        } catch (EventEncodingException e) {
            throw located(e, event);
        }
    }

    /**
     * The Kafka record value: the event as JSON, UTF-8.
     *
     * @throws EventEncodingException naming table, column and LSN when a value cannot be encoded
     */
    @Override
    public byte[] value(ChangeEvent event) {
        try {
            return encodeValue(event);
        } catch (EventEncodingException e) {
            throw located(e, event);
        }
    }

    private static EventEncodingException located(EventEncodingException e, ChangeEvent event) {
        return new EventEncodingException(e.getMessage() + " (" + event.op().jsonName() + " at LSN " + event.lsn()
                + ", xid " + event.xid() + ")");
    }

    private byte[] encodeKey(ChangeEvent event) {
        RelationCodec codec = codecFor(event);
        if (!codec.hasKey() || event.op() == Op.TRUNCATE) {
            return null;
        }
        buffer.reset();
        writeKey(event, codec);
        return buffer.toByteArray();
    }

    private byte[] encodeValue(ChangeEvent event) {
        RelationCodec codec = codecFor(event);
        JsonBuffer out = buffer;
        out.reset();
        out.write(OP);
        out.write(event.op().quotedJson());
        out.write(TABLE);
        out.write(codec.tableJson());
        out.write(KEY);
        if (codec.hasKey() && event.op() != Op.TRUNCATE) {
            writeKey(event, codec);
        } else {
            out.writeNull();
        }
        out.write(BEFORE);
        writeBefore(event, codec);
        out.write(AFTER);
        TupleData after = event.after();
        if (after != null && event.op() != Op.DELETE && event.op() != Op.TRUNCATE) {
            codec.writeRow(after, out);
        } else {
            requireAbsent(event, after, "after");
            out.writeNull();
            after = null;
        }
        out.write(UNCHANGED);
        codec.writeUnchanged(after, out);
        out.write(LSN);
        out.writeLsn(event.lsn().value());
        out.write(COMMIT_LSN);
        out.writeLsn(event.commitLsn().value());
        out.write(XID);
        out.writeLong(event.xid());
        out.write(SEQ);
        out.writeLong(event.seq());
        out.write(COMMITTED_AT);
        out.writeInstantMicros(event.committedAtMicros());
        out.write(clusterTail);
        return out.toByteArray();
    }

    private void writeKey(ChangeEvent event, RelationCodec codec) {
        switch (event.op()) {
            case DELETE -> codec.writeKey(require(event, event.before(), "before"), null, buffer);
            default -> codec.writeKey(require(event, event.after(), "after"), event.before(), buffer);
        }
    }

    private void writeBefore(ChangeEvent event, RelationCodec codec) {
        TupleData before = event.before();
        switch (event.op()) {
            case UPDATE -> {
                if (before != null) {
                    codec.writeOldTuple(before, buffer);
                } else if (codec.hasKey()) {
                    codec.writeKey(require(event, event.after(), "after"), null, buffer);
                } else {
                    buffer.writeNull();
                }
            }
            case DELETE -> codec.writeOldTuple(require(event, before, "before"), buffer);
            default -> {
                requireAbsent(event, before, "before");
                buffer.writeNull();
            }
        }
    }

    private RelationCodec codecFor(ChangeEvent event) {
        Relation relation = event.relation();
        RelationCodec codec = codecs.get(relation.relationId());
        if (codec == null || (codec.relation() != relation && !codec.relation().equals(relation))) {
            register(relation);
            codec = codecs.get(relation.relationId());
        }
        return codec;
    }

    private static TupleData require(ChangeEvent event, TupleData tuple, String which) {
        if (tuple == null) {
            throw new EventEncodingException("a " + event.op().jsonName() + " of " + event.relation().tableId()
                    + " has no " + which + " tuple");
        }
        return tuple;
    }

    private static void requireAbsent(ChangeEvent event, TupleData tuple, String which) {
        if (tuple != null) {
            throw new EventEncodingException("a " + event.op().jsonName() + " of " + event.relation().tableId()
                    + " cannot have a " + which + " tuple");
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
