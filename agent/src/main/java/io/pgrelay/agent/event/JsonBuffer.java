package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer that JSON is written into directly as UTF-8, reused from event to
 * event. Strings are escaped on their UTF-8 bytes: {@code "} and {@code \} and control
 * characters below 0x20 are escaped, every other byte (multi-byte UTF-8 included) is copied.
 * Not thread-safe.
 */
public final class JsonBuffer {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEX_UPPER = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BASE64 =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);
    /** For each byte: 0 copy as is, 'u' write as a six-byte unicode escape (backslash, u, 00XX), else the letter after the backslash. */
    private static final byte[] ESCAPE = new byte[256];

    static {
        for (int b = 0; b < 0x20; b++) {
            ESCAPE[b] = 'u';
        }
        ESCAPE['\b'] = 'b';
        ESCAPE['\t'] = 't';
        ESCAPE['\n'] = 'n';
        ESCAPE['\f'] = 'f';
        ESCAPE['\r'] = 'r';
        ESCAPE['"'] = '"';
        ESCAPE['\\'] = '\\';
    }

    private byte[] bytes;
    private int size;

    public JsonBuffer() {
        this(1024);
    }

    public JsonBuffer(int capacity) {
        bytes = new byte[capacity];
    }

    public void reset() {
        size = 0;
    }

    public int size() {
        return size;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    @Override
    public String toString() {
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }

    public void write(byte b) {
        ensure(1);
        bytes[size++] = b;
    }

    public void write(byte[] src) {
        write(src, 0, src.length);
    }

    /** Copies bytes as they are: for values already in JSON form. */
    public void write(byte[] src, int off, int len) {
        ensure(len);
        System.arraycopy(src, off, bytes, size, len);
        size += len;
    }

    public void writeNull() {
        ensure(4);
        bytes[size++] = 'n';
        bytes[size++] = 'u';
        bytes[size++] = 'l';
        bytes[size++] = 'l';
    }

    /** A JSON string from UTF-8 bytes, quoted and escaped. */
    public void writeString(byte[] src, int off, int len) {
        ensure(len + 2);
        bytes[size++] = '"';
        int end = off + len;
        int run = off;
        for (int i = off; i < end; i++) {
            byte escape = ESCAPE[src[i] & 0xFF];
            if (escape != 0) {
                write(src, run, i - run);
                writeEscape(src[i], escape);
                run = i + 1;
            }
        }
        write(src, run, end - run);
        write((byte) '"');
    }

    private void writeEscape(byte b, byte escape) {
        ensure(6);
        bytes[size++] = '\\';
        if (escape == 'u') {
            bytes[size++] = 'u';
            bytes[size++] = '0';
            bytes[size++] = '0';
            bytes[size++] = HEX[(b >> 4) & 0xF];
            bytes[size++] = HEX[b & 0xF];
        } else {
            bytes[size++] = escape;
        }
    }

    /** A JSON string from Java text; allocates, so for names encoded once, not for values. */
    public void writeString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        writeString(utf8, 0, utf8.length);
    }

    public void writeLong(long v) {
        if (v == Long.MIN_VALUE) {
            write("-9223372036854775808".getBytes(StandardCharsets.US_ASCII));
            return;
        }
        ensure(20);
        if (v < 0) {
            bytes[size++] = '-';
            v = -v;
        }
        int end = size + digits(v);
        int i = end;
        // two digits per division, from the right
        while (v >= 100) {
            int r = (int) (v % 100);
            v /= 100;
            bytes[--i] = TWO_DIGITS[2 * r + 1];
            bytes[--i] = TWO_DIGITS[2 * r];
        }
        if (v >= 10) {
            bytes[--i] = TWO_DIGITS[2 * (int) v + 1];
            bytes[--i] = TWO_DIGITS[2 * (int) v];
        } else {
            bytes[--i] = (byte) ('0' + v);
        }
        size = end;
    }

    /** "00" "01" … "99", two bytes each. */
    private static final byte[] TWO_DIGITS = new byte[200];

    static {
        for (int i = 0; i < 100; i++) {
            TWO_DIGITS[2 * i] = (byte) ('0' + i / 10);
            TWO_DIGITS[2 * i + 1] = (byte) ('0' + i % 10);
        }
    }

    /** Decimal digits of {@code v} ≥ 0. */
    private static int digits(long v) {
        long bound = 10;
        for (int d = 1; d < 19; d++) {
            if (v < bound) {
                return d;
            }
            bound *= 10;
        }
        return 19;
    }

    /** An LSN in PostgreSQL's form, {@code "16/3002D50"}, quoted. */
    public void writeLsn(long lsn) {
        ensure(19);
        bytes[size++] = '"';
        writeHex(lsn >>> 32);
        bytes[size++] = '/';
        writeHex(lsn & 0xFFFFFFFFL);
        bytes[size++] = '"';
    }

    private void writeHex(long v) {
        int digits = v == 0 ? 1 : (67 - Long.numberOfLeadingZeros(v)) / 4;
        for (int i = digits - 1; i >= 0; i--) {
            bytes[size++] = HEX_UPPER[(int) (v >>> (i * 4)) & 0xF];
        }
    }

    /**
     * Shortens the fraction of the instant written from {@code start} by {@link #writeInstantMicros}
     * to {@code digits} digits (none: the dot goes too).
     */
    void truncateFraction(int start, int digits) {
        int dot = start;
        while (bytes[dot] != '.') {
            dot++;
        }
        int cut = 6 - digits + (digits == 0 ? 1 : 0);
        int from = dot + 7;   // 'Z'
        int to = from - cut;
        System.arraycopy(bytes, from, bytes, to, size - from);
        size -= cut;
    }

    /** Writes a number with at least {@code width} digits, zero-padded; {@code v} ≥ 0. */
    void writePadded(long v, int width) {
        ensure(20);
        for (int i = digits(v); i < width; i++) {
            bytes[size++] = '0';
        }
        writeLong(v);
    }

    /** Bytes as a quoted base64 string (RFC 4648, with padding). */
    public void writeBase64(byte[] src, int off, int len) {
        ensure((len + 2) / 3 * 4 + 2);
        bytes[size++] = '"';
        int end = off + len;
        int i = off;
        for (; i + 2 < end; i += 3) {
            writeBase64Group((src[i] & 0xFF) << 16 | (src[i + 1] & 0xFF) << 8 | (src[i + 2] & 0xFF), 3);
        }
        if (end - i == 1) {
            writeBase64Group((src[i] & 0xFF) << 16, 1);
        } else if (end - i == 2) {
            writeBase64Group((src[i] & 0xFF) << 16 | (src[i + 1] & 0xFF) << 8, 2);
        }
        bytes[size++] = '"';
    }

    /** Writes the 4 base64 characters of a 24-bit group holding {@code count} bytes (1 to 3). */
    void writeBase64Group(int group, int count) {
        ensure(4);
        bytes[size++] = BASE64[(group >> 18) & 0x3F];
        bytes[size++] = BASE64[(group >> 12) & 0x3F];
        bytes[size++] = count > 1 ? BASE64[(group >> 6) & 0x3F] : (byte) '=';
        bytes[size++] = count > 2 ? BASE64[group & 0x3F] : (byte) '=';
    }

    /**
     * An instant as a quoted ISO-8601 UTC string with exactly 6 fractional digits,
     * {@code "2026-11-22T10:15:30.123456Z"}, from microseconds since 1970-01-01 UTC.
     */
    public void writeInstantMicros(long unixMicros) {
        long days = Math.floorDiv(unixMicros, 86_400_000_000L);
        long microsOfDay = Math.floorMod(unixMicros, 86_400_000_000L);
        // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        long day = dayOfYear - (153 * mp + 2) / 5 + 1;
        long month = mp < 10 ? mp + 3 : mp - 9;
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        long seconds = microsOfDay / 1_000_000;
        write((byte) '"');
        if (year < 0) {
            write((byte) '-');
            year = -year;
        }
        writePadded(year, 4);
        write((byte) '-');
        writePadded(month, 2);
        write((byte) '-');
        writePadded(day, 2);
        write((byte) 'T');
        writePadded(seconds / 3600, 2);
        write((byte) ':');
        writePadded(seconds / 60 % 60, 2);
        write((byte) ':');
        writePadded(seconds % 60, 2);
        write((byte) '.');
        writePadded(microsOfDay % 1_000_000, 6);
        write((byte) 'Z');
        write((byte) '"');
    }
}
