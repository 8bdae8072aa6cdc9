package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;

import java.nio.charset.StandardCharsets;

/**
 * Reads big-endian fields of one message from a byte array, checking every length so that a
 * short message fails with where and how much was missing. Offsets in errors count from the
 * message's first byte (its type byte).
 */
final class MessageReader {

    private final byte[] array;
    private final int start;
    private final int end;
    private int pos;
    private String message = "pgoutput";

    MessageReader(byte[] array, int start, int end) {
        this.array = array;
        this.start = start;
        this.end = end;
        this.pos = start;
    }

    /** Names the message being read, for errors ("Insert message truncated: …"). */
    void naming(String message) {
        this.message = message;
    }

    String message() {
        return message;
    }

    int offset() {
        return pos - start;
    }

    byte[] array() {
        return array;
    }

    int position() {
        return pos;
    }

    void need(long bytes) {
        if (end - pos < bytes) {
            throw new PgOutputException(message + " message truncated: expected " + bytes
                    + " more bytes at offset " + offset() + ", got " + (end - pos));
        }
    }

    byte int8() {
        need(1);
        return array[pos++];
    }

    int int16() {
        need(2);
        int v = ((array[pos] & 0xFF) << 8) | (array[pos + 1] & 0xFF);
        pos += 2;
        return v;
    }

    int int32() {
        need(4);
        int v = ((array[pos] & 0xFF) << 24) | ((array[pos + 1] & 0xFF) << 16)
                | ((array[pos + 2] & 0xFF) << 8) | (array[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    /** An unsigned 32-bit value (xid, OID) widened to a long. */
    long uint32() {
        return int32() & 0xFFFFFFFFL;
    }

    long int64() {
        need(8);
        long hi = int32() & 0xFFFFFFFFL;
        return (hi << 32) | (int32() & 0xFFFFFFFFL);
    }

    Lsn lsn() {
        return Lsn.of(int64());
    }

    /** A NUL-terminated UTF-8 string. */
    String string() {
        int nul = pos;
        while (nul < end && array[nul] != 0) {
            nul++;
        }
        if (nul == end) {
            throw new PgOutputException(message + " message truncated: string at offset " + offset()
                    + " has no terminating NUL before the end (" + (end - start) + " bytes)");
        }
        String s = new String(array, pos, nul - pos, StandardCharsets.UTF_8);
        pos = nul + 1;
        return s;
    }

    /** Skips {@code n} bytes after checking they are there, returning where they start. */
    int skip(int n) {
        if (n < 0) {
            throw new PgOutputException(message + " message has a negative length " + n + " at offset " + (offset() - 4));
        }
        need(n);
        int at = pos;
        pos += n;
        return at;
    }

    void expectEnd() {
        if (pos != end) {
            throw new PgOutputException(message + " message has " + (end - pos)
                    + " unexpected trailing bytes at offset " + offset());
        }
    }
}
