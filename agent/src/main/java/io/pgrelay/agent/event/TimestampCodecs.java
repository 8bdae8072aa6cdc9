package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;

/**
 * timestamp and timestamptz from PostgreSQL's ISO output to ISO-8601. Keeps the fractional
 * digits PostgreSQL gave; {@code infinity}, {@code -infinity} and BC dates stay PostgreSQL's
 * text form (ISO-8601 has no good spelling for them).
 */
final class TimestampCodecs {

    /** {@code 2026-11-22 10:15:30.5} → {@code "2026-11-22T10:15:30.5"}. */
    static final ValueCodec TIMESTAMP = (text, off, len, out) -> {
        int space = dateEnd(text, off, len);
        if (space < 0 || endsWithBc(text, off, len)) {
            out.writeString(text, off, len);
            return;
        }
        out.write((byte) '"');
        out.write(text, off, space - off);
        out.write((byte) 'T');
        out.write(text, space + 1, off + len - space - 1);
        out.write((byte) '"');
    };

    /**
     * {@code 2026-11-22 10:15:30.123456+00} → {@code "2026-11-22T10:15:30.123456Z"}; another offset
     * ({@code +05:30}, {@code -08}, {@code +00:19:32}) is converted to UTC.
     */
    static final ValueCodec TIMESTAMPTZ = (text, off, len, out) -> {
        int space = dateEnd(text, off, len);
        int sign = space < 0 ? -1 : offsetStart(text, space, off + len);
        if (sign < 0 || endsWithBc(text, off, len)) {
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
    };

    private TimestampCodecs() {
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
            int dash1 = s.indexOf('-', 1);
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
            out.writePadded(utc.getYear(), 4);
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
