package io.pgrelay.agent.pgoutput;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes pgoutput messages of protocol version 1 ({@code proto_version '1'}, text values) into
 * {@link PgMessage} records. Stateless and without I/O: safe to share between threads.
 *
 * <p>Tuples are views over the buffer's backing array ({@link TupleData}), not copies: once a
 * buffer is decoded, its bytes must not be overwritten while the messages are in use. A buffer
 * without an accessible array (direct, read-only) is copied first.
 */
public final class PgOutputDecoder {

    /**
     * Decodes the one message between the buffer's position and limit, and moves the position to
     * the limit.
     *
     * @throws PgOutputException if the bytes are truncated, carry trailing garbage, or are not a
     *                           protocol-1 message
     */
    public PgMessage decode(ByteBuffer buf) {
        MessageReader in;
        if (buf.hasArray()) {
            int start = buf.arrayOffset() + buf.position();
            in = new MessageReader(buf.array(), start, buf.arrayOffset() + buf.limit());
        } else {
            byte[] copy = new byte[buf.remaining()];
            buf.duplicate().get(copy);
            in = new MessageReader(copy, 0, copy.length);
        }
        PgMessage message = decode(in);
        in.expectEnd();
        buf.position(buf.limit());
        return message;
    }

    private static PgMessage decode(MessageReader in) {
        byte type = in.int8();
        return switch (type) {
            case 'B' -> begin(named(in, "Begin"));
            case 'C' -> commit(named(in, "Commit"));
            case 'R' -> relation(named(in, "Relation"));
            case 'Y' -> type(named(in, "Type"));
            case 'O' -> origin(named(in, "Origin"));
            case 'I' -> insert(named(in, "Insert"));
            case 'U' -> update(named(in, "Update"));
            case 'D' -> delete(named(in, "Delete"));
            case 'T' -> truncate(named(in, "Truncate"));
            case 'M' -> logicalMessage(named(in, "Logical decoding"));
            default -> throw new PgOutputException("unknown pgoutput message type " + describe(type)
                    + " at offset 0; pgrelay reads proto_version 1 (streamed and two-phase messages are not requested)");
        };
    }

    private static MessageReader named(MessageReader in, String name) {
        in.naming(name);
        return in;
    }

    private static Begin begin(MessageReader in) {
        return new Begin(in.lsn(), in.int64(), in.uint32());
    }

    private static Commit commit(MessageReader in) {
        return new Commit(in.int8() & 0xFF, in.lsn(), in.lsn(), in.int64());
    }

    private static Relation relation(MessageReader in) {
        int relationId = in.int32();
        String namespace = in.string();
        String name = in.string();
        char replicaIdentity = (char) in.int8();
        int count = in.int16();
        List<Relation.Column> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            boolean key = (in.int8() & 1) != 0;
            columns.add(new Relation.Column(key, in.string(), in.int32(), in.int32()));
        }
        return new Relation(relationId, namespace, name, replicaIdentity, columns);
    }

    private static Type type(MessageReader in) {
        return new Type(in.int32(), in.string(), in.string());
    }

    private static Origin origin(MessageReader in) {
        return new Origin(in.lsn(), in.string());
    }

    private static Insert insert(MessageReader in) {
        int relationId = in.int32();
        expectMarker(in, (byte) 'N', "'N' (new tuple)");
        return new Insert(relationId, tuple(in));
    }

    private static Update update(MessageReader in) {
        int relationId = in.int32();
        byte marker = in.int8();
        char oldKind = 0;
        TupleData oldTuple = null;
        if (marker == 'K' || marker == 'O') {
            oldKind = (char) marker;
            oldTuple = tuple(in);
            marker = in.int8();
        }
        if (marker != 'N') {
            throw new PgOutputException("Update message has " + describe(marker) + " at offset " + (in.offset() - 1)
                    + " where 'K', 'O' or 'N' was expected");
        }
        return new Update(relationId, oldKind, oldTuple, tuple(in));
    }

    private static Delete delete(MessageReader in) {
        int relationId = in.int32();
        byte marker = in.int8();
        if (marker != 'K' && marker != 'O') {
            throw new PgOutputException("Delete message has " + describe(marker) + " at offset " + (in.offset() - 1)
                    + " where 'K' or 'O' was expected");
        }
        return new Delete(relationId, (char) marker, tuple(in));
    }

    private static Truncate truncate(MessageReader in) {
        int count = in.int32();
        int options = in.int8() & 0xFF;
        if (count < 0) {
            throw new PgOutputException("Truncate message has a negative relation count " + count + " at offset 1");
        }
        in.need(4L * count);
        int[] relationIds = new int[count];
        for (int i = 0; i < count; i++) {
            relationIds[i] = in.int32();
        }
        return new Truncate(options, relationIds);
    }

    private static LogicalMessage logicalMessage(MessageReader in) {
        boolean transactional = (in.int8() & 1) != 0;
        var lsn = in.lsn();
        String prefix = in.string();
        int length = in.int32();
        int at = in.skip(length);
        return new LogicalMessage(transactional, lsn, prefix, Arrays.copyOfRange(in.array(), at, at + length));
    }

    private static TupleData tuple(MessageReader in) {
        int count = in.int16();
        byte[] kinds = new byte[count];
        int[] offsets = new int[count];
        int[] lengths = new int[count];
        for (int i = 0; i < count; i++) {
            byte kind = in.int8();
            switch (kind) {
                case TupleData.NULL, TupleData.UNCHANGED_TOAST -> { }
                case TupleData.TEXT, TupleData.BINARY -> {
                    int length = in.int32();
                    offsets[i] = in.skip(length);
                    lengths[i] = length;
                }
                default -> throw new PgOutputException(in.message() + " message has column " + (i + 1) + " of "
                        + count + " of unknown kind " + describe(kind) + " at offset " + (in.offset() - 1)
                        + "; expected 'n', 'u', 't' or 'b'");
            }
            kinds[i] = kind;
        }
        return new TupleData(in.array(), kinds, offsets, lengths);
    }

    private static void expectMarker(MessageReader in, byte expected, String what) {
        byte marker = in.int8();
        if (marker != expected) {
            throw new PgOutputException(in.message() + " message has " + describe(marker) + " at offset "
                    + (in.offset() - 1) + " where " + what + " was expected");
        }
    }

    private static String describe(byte b) {
        return b >= 0x20 && b < 0x7F ? "'" + (char) b + "' (0x" + Integer.toHexString(b & 0xFF) + ")"
                : "0x" + Integer.toHexString(b & 0xFF);
    }
}
