package io.pgrelay.agent.core;

/**
 * A PostgreSQL WAL position (log sequence number), written {@code XXX/XXX} in hex as PostgreSQL does.
 * Compared as an unsigned 64-bit number.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    public static final Lsn ZERO = new Lsn(0);

    /** Parses PostgreSQL's text form, e.g. {@code 16/3002D50}; throws on anything else. */
    public static Lsn parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("LSN is null; expected the form 16/3002D50");
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not an LSN: '" + text + "'; expected the form 16/3002D50");
        }
        try {
            long hi = Long.parseLong(text, 0, slash, 16);
            long lo = Long.parseLong(text, slash + 1, text.length(), 16);
            return new Lsn((hi << 32) | lo);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN: '" + text + "'; expected the form 16/3002D50");
        }
    }

    public static Lsn of(long value) {
        return value == 0 ? ZERO : new Lsn(value);
    }

    public boolean isZero() {
        return value == 0;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** {@link #toString()} as ASCII bytes, without the intermediate strings: record headers use it per event. */
    public static byte[] toAscii(long value) {
        int hi = (int) (value >>> 32);
        int lo = (int) value;
        int hiDigits = hexDigits(hi);
        int loDigits = hexDigits(lo);
        byte[] out = new byte[hiDigits + 1 + loDigits];
        writeHex(out, 0, hi, hiDigits);
        out[hiDigits] = '/';
        writeHex(out, hiDigits + 1, lo, loDigits);
        return out;
    }

    private static int hexDigits(int v) {
        return v == 0 ? 1 : (35 - Integer.numberOfLeadingZeros(v)) / 4;
    }

    private static void writeHex(byte[] out, int at, int v, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            out[at + i] = HEX[v & 0xF];
            v >>>= 4;
        }
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
