package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;

/**
 * date, timestamp and timestamptz from PostgreSQL's ISO output to ISO-8601. Keeps the fractional
 * digits PostgreSQL gave; {@code infinity} and {@code -infinity} stay PostgreSQL's text form.
 * A BC date is written in ISO-8601's astronomical year numbering, which has a year 0 — 1 BC is
 * {@code 0000}, 44 BC is {@code -0043} — as {@code java.time} and most ISO-8601 parsers read it.
 */
final class TimestampCodecs {

    private static final byte[] BC_SUFFIX = " BC".getBytes(StandardCharsets.US_ASCII);

    /** {@code 2026-11-22} stays; {@code 0044-03-15 BC} → {@code "-0043-03-15"}. */
    static final ValueCodec DATE = TimestampCodecs::writeDate;

    /** {@code 2026-11-22 10:15:30.5} → {@code "2026-11-22T10:15:30.5"}. */
    static final ValueCodec TIMESTAMP = TimestampCodecs::writeTimestamp;

    /**
     * {@code 2026-11-22 10:15:30.123456+00} → {@code "2026-11-22T10:15:30.123456Z"}; another offset
     * ({@code +05:30}, {@code -08}, {@code +00:19:32}) is converted to UTC.
     */
    static final ValueCodec TIMESTAMPTZ = TimestampCodecs::writeTimestamptz;

    private TimestampCodecs() {
    }

    private static void writeDate(byte[] text, int off, int len, JsonBuffer out) {
        if (endsWithBc(text, off, len)) {
            byte[] astronomical = astronomicalYear(text, off, len);
            out.writeString(astronomical, 0, astronomical.length);
        } else {
            out.writeString(text, off, len);
        }
    }

    private static void writeTimestamp(byte[] text, int off, int len, JsonBuffer out) {
        if (endsWithBc(text, off, len)) {
            byte[] astronomical = astronomicalYear(text, off, len);
            writeTimestamp(astronomical, 0, astronomical.length, out);
            return;
        }
        int space = dateEnd(text, off, len);
        if (space < 0) {
            out.writeString(text, off, len);
            return;
        }
        out.write((byte) '"');
        out.write(text, off, space - off);
        out.write((byte) 'T');
        out.write(text, space + 1, off + len - space - 1);
        out.write((byte) '"');
    }

    private static void writeTimestamptz(byte[] text, int off, int len, JsonBuffer out) {
        if (endsWithBc(text, off, len)) {
            byte[] astronomical = astronomicalYear(text, off, len);
            writeTimestamptz(astronomical, 0, astronomical.length, out);
            return;
        }
        int space = dateEnd(text, off, len);
        int sign = space < 0 ? -1 : offsetStart(text, space, off + len);
        if (sign < 0) {
            out.writeString(text, off, len);
            return;
        }
        int end = off + len;
        if (end - sign == 3 && text[sign + 1] == '0' && text[sign + 2] == '0') {
            out.write((byte) '"');
            out.write(text, off, space - off);
            out.write((byte) 'T');
            out.write(text, space + 1, sign - space - 1);
            out.write((byte) 'Z');
            out.write((byte) '"');
        } else {
            writeShiftedToUtc(text, off, space, sign, end, out);
        }
    }

    /**
     * PostgreSQL's {@code 0044-03-15 10:00:00 BC} as {@code -0043-03-15 10:00:00}: the year made
     * astronomical (1 − year), the suffix dropped. Allocates, but BC values are rare.
     */
    private static byte[] astronomicalYear(byte[] text, int off, int len) {
        String s = new String(text, off, len - BC_SUFFIX.length, StandardCharsets.US_ASCII);
        int dash = s.indexOf('-');
        int year;
        try {
            year = dash > 0 ? Integer.parseInt(s, 0, dash, 10) : -1;
        } catch (NumberFormatException e) {
            year = -1;
        }
        if (year < 1) {
            throw new EventEncodingException("BC date '" + new String(text, off, len, StandardCharsets.US_ASCII)
                    + "' does not start with a year");
        }
        int astronomical = 1 - year;
        String digits = String.valueOf(-astronomical);
        String padded = "0".repeat(Math.max(0, 4 - digits.length())) + digits;
        return ((astronomical < 0 ? "-" : "") + padded + s.substring(dash)).getBytes(StandardCharsets.US_ASCII);
    }

    /** Where the date part ends (the space before the time), or -1 for {@code infinity} and such. */
    private static int dateEnd(byte[] text, int off, int len) {
        for (int i = off + 1; i < off + len; i++) {
            if (text[i] == ' ') {
                return i;
            }
        }
        return -1;
    }

    /** The index of the offset's sign after the time, or -1 if there is none. */
    private static int offsetStart(byte[] text, int space, int end) {
        for (int i = end - 1; i > space; i--) {
            if (text[i] == '+' || text[i] == '-') {
                return i;
            }
        }
        return -1;
    }

    private static boolean endsWithBc(byte[] text, int off, int len) {
        return len > 3 && text[off + len - 1] == 'C' && text[off + len - 2] == 'B' && text[off + len - 3] == ' ';
    }

    /** The slow path: an offset other than +00, as a session with another TimeZone would write. */
    private static void writeShiftedToUtc(byte[] text, int off, int space, int sign, int end, JsonBuffer out) {
        String s = new String(text, off, end - off, StandardCharsets.US_ASCII);
        int sp = space - off;
        int sg = sign - off;
        try {
            int dash1 = s.indexOf('-', 1);   // from 1: an astronomical BC year starts with '-'
            int year = Integer.parseInt(s, 0, dash1, 10);
            int month = Integer.parseInt(s, dash1 + 1, dash1 + 3, 10);
            int day = Integer.parseInt(s, dash1 + 4, dash1 + 6, 10);
            int hour = Integer.parseInt(s, sp + 1, sp + 3, 10);
            int minute = Integer.parseInt(s, sp + 4, sp + 6, 10);
            int second = Integer.parseInt(s, sp + 7, sp + 9, 10);
            String fraction = s.substring(sp + 9, sg);   // "" or ".123456"
            String[] parts = s.substring(sg + 1).split(":");
            int offsetSeconds = Integer.parseInt(parts[0]) * 3600
                    + (parts.length > 1 ? Integer.parseInt(parts[1]) * 60 : 0)
                    + (parts.length > 2 ? Integer.parseInt(parts[2]) : 0);
            if (s.charAt(sg) == '-') {
                offsetSeconds = -offsetSeconds;
            }
            LocalDateTime utc = LocalDateTime.of(year, month, day, hour, minute, second).minusSeconds(offsetSeconds);
            out.write((byte) '"');
            if (utc.getYear() < 0) {
                out.write((byte) '-');
            }
            out.writePadded(Math.abs(utc.getYear()), 4);
            out.write((byte) '-');
            out.writePadded(utc.getMonthValue(), 2);
            out.write((byte) '-');
            out.writePadded(utc.getDayOfMonth(), 2);
            out.write((byte) 'T');
            out.writePadded(utc.getHour(), 2);
            out.write((byte) ':');
            out.writePadded(utc.getMinute(), 2);
            out.write((byte) ':');
            out.writePadded(utc.getSecond(), 2);
            out.write(fraction.getBytes(StandardCharsets.US_ASCII));
            out.write((byte) 'Z');
            out.write((byte) '"');
        } catch (RuntimeException e) {
            throw new EventEncodingException("timestamptz value '" + s + "' is not in PostgreSQL's ISO form: " + e.getMessage());
        }
    }
}
