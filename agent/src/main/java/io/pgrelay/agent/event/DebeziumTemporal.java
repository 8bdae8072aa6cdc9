package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;

/**
 * Debezium's temporal values from PostgreSQL's text form (the session runs with {@code TimeZone=UTC}
 * and {@code DateStyle=ISO}, {@code IntervalStyle=postgres}): days, milli- and microseconds since the
 * epoch or midnight, zoned times as UTC strings, and intervals as Debezium's MicroDuration. The
 * writers are {@link ValueCodec}s that {@link DebeziumTypes} picks per column.
 */
final class DebeziumTemporal {

    private static final double DAYS_PER_MONTH_AVG = 365.25 / 12.0d;   // Debezium's MicroDuration.DAYS_PER_MONTH_AVG

    private DebeziumTemporal() {
    }

    private static int num(byte[] t, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            byte b = t[i];
            if (b < '0' || b > '9') {
                throw new EventEncodingException("'" + new String(t, from, to - from, StandardCharsets.UTF_8) + "' is not a number");
            }
            v = v * 10 + (b - '0');
        }
        return v;
    }

    /** Days since 1970-01-01 of {@code YYYY-MM-DD} (years may have more than 4 digits). */
    private static long epochDay(byte[] t, int off, int dateEnd) {
        if (dateEnd - off < 10) {
            throw new EventEncodingException("'" + new String(t, off, dateEnd - off, StandardCharsets.UTF_8) + "' is not a date");
        }
        long year = num(t, off, dateEnd - 6);
        int month = num(t, dateEnd - 5, dateEnd - 3);
        int day = num(t, dateEnd - 2, dateEnd);
        // days_from_civil (H. Hinnant)
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    private static void checkFinite(byte[] t, int off, int len) {
        if (len > 0 && (t[off] == 'i' || t[off] == '-' && len > 1 && t[off + 1] == 'i')) {
            throw new EventEncodingException("'" + new String(t, off, len, StandardCharsets.UTF_8)
                    + "' has no value in Debezium's temporal types; use format: pgrelay for infinite dates and times");
        }
        if (len > 3 && t[off + len - 3] == ' ' && t[off + len - 2] == 'B' && t[off + len - 1] == 'C') {
            throw new EventEncodingException("'" + new String(t, off, len, StandardCharsets.UTF_8)
                    + "' is before year 1; Debezium's temporal types are not written for it by this build");
        }
    }

    private static int dateEnd(byte[] t, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (t[i] == ' ') {
                return i;
            }
        }
        return off + len;
    }

    static void writeDate(byte[] t, int off, int len, JsonBuffer out) {
        checkFinite(t, off, len);
        out.writeLong(epochDay(t, off, off + len));
    }

    /** Microseconds of {@code HH:MM:SS[.ffffff]} in {@code t[from, to)}. */
    private static long timeMicros(byte[] t, int from, int to) {
        long micros = (num(t, from, from + 2) * 3600L + num(t, from + 3, from + 5) * 60L + num(t, from + 6, from + 8)) * 1_000_000L;
        if (to > from + 9 && t[from + 8] == '.') {
            int digits = to - from - 9;
            long fraction = num(t, from + 9, to);
            for (int i = digits; i < 6; i++) {
                fraction *= 10;
            }
            micros += fraction;
        }
        return micros;
    }

    /** Where a time's offset begins ({@code +}/{@code -} after the seconds), or {@code end}. */
    private static int offsetStart(byte[] t, int from, int end) {
        for (int i = from + 8; i < end; i++) {
            if (t[i] == '+' || t[i] == '-') {
                return i;
            }
        }
        return end;
    }

    /** An offset {@code +HH[:MM[:SS]]} in seconds east of UTC. */
    private static int offsetSeconds(byte[] t, int from, int end) {
        if (from >= end) {
            return 0;
        }
        int sign = t[from] == '-' ? -1 : 1;
        int seconds = num(t, from + 1, from + 3) * 3600;
        if (end > from + 3) {
            seconds += num(t, from + 4, from + 6) * 60;
        }
        if (end > from + 6) {
            seconds += num(t, from + 7, from + 9);
        }
        return sign * seconds;
    }

    static void writeTimeMicros(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(timeMicros(t, off, off + len));
    }

    static void writeTimeMillis(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(timeMicros(t, off, off + len) / 1000);
    }

    private static long timestampMicros(byte[] t, int off, int len) {
        checkFinite(t, off, len);
        int space = dateEnd(t, off, len);
        int end = off + len;
        int offset = offsetStart(t, space + 1, end);
        long micros = epochDay(t, off, space) * 86_400_000_000L + timeMicros(t, space + 1, offset);
        return micros - offsetSeconds(t, offset, end) * 1_000_000L;
    }

    static void writeTimestampMicros(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(timestampMicros(t, off, len));
    }

    static void writeTimestampMillis(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(Math.floorDiv(timestampMicros(t, off, len), 1000));
    }

    /** {@code "2026-11-22T10:15:30.123456Z"}, with as many fraction digits as the column's precision. */
    static void writeZonedTimestamp(byte[] t, int off, int len, int width, JsonBuffer out) {
        if (len > 0 && (t[off] == 'i' || t[off] == '-')) {
            out.writeString(t, off, len);   // Debezium writes PostgreSQL's "infinity" and "-infinity" as they are
            return;
        }
        long micros = timestampMicros(t, off, len);
        int start = out.size();
        out.writeInstantMicros(micros);    // "…ss.ffffffZ": 6 digits, trimmed below to the column's precision
        if (width < 6) {
            out.truncateFraction(start, width);
        }
    }

    /** {@code 10:15:30.5+02} → {@code "08:15:30.5Z"}: UTC, as Java's ISO_OFFSET_TIME prints it. */
    static void writeZonedTime(byte[] t, int off, int len, JsonBuffer out) {
        int end = off + len;
        int offset = offsetStart(t, off, end);
        long micros = Math.floorMod(timeMicros(t, off, offset) - offsetSeconds(t, offset, end) * 1_000_000L, 86_400_000_000L);
        long seconds = micros / 1_000_000;
        out.write((byte) '"');
        out.writePadded(seconds / 3600, 2);
        out.write((byte) ':');
        out.writePadded(seconds / 60 % 60, 2);
        out.write((byte) ':');
        out.writePadded(seconds % 60, 2);
        long fraction = micros % 1_000_000;
        if (fraction != 0) {
            int digits = 6;
            while (fraction % 10 == 0) {
                fraction /= 10;
                digits--;
            }
            out.write((byte) '.');
            out.writePadded(fraction, digits);
        }
        out.write((byte) 'Z');
        out.write((byte) '"');
    }

    /**
     * {@code 1 year 2 mons 3 days 04:05:06.789} (IntervalStyle=postgres) → microseconds, computed as
     * Debezium's MicroDuration does: a month is 365.25 / 12 days, in double arithmetic.
     */
    static long intervalMicros(byte[] t, int off, int len) {
        String s = new String(t, off, len, StandardCharsets.US_ASCII);
        int years = 0;
        int months = 0;
        int days = 0;
        int hours = 0;
        int minutes = 0;
        double seconds = 0;
        String[] parts = s.trim().split(" +");
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.indexOf(':') >= 0) {
                int sign = p.startsWith("-") ? -1 : 1;
                String[] hms = p.replace("+", "").replace("-", "").split(":");
                hours = sign * Integer.parseInt(hms[0]);
                minutes = sign * Integer.parseInt(hms[1]);
                seconds = hms.length > 2 ? sign * Double.parseDouble(hms[2]) : 0;
            } else if (i + 1 < parts.length) {
                int n = Integer.parseInt(p.replace("+", ""));
                String unit = parts[++i];
                if (unit.startsWith("year")) {
                    years = n;
                } else if (unit.startsWith("mon")) {
                    months = n;
                } else if (unit.startsWith("day")) {
                    days = n;
                } else {
                    throw new EventEncodingException("interval '" + s + "' has an unknown unit " + unit);
                }
            } else {
                throw new EventEncodingException("interval '" + s + "' is not in IntervalStyle postgres");
            }
        }
        double numberOfDays = ((years * 12) + months) * DAYS_PER_MONTH_AVG + days;
        double numberOfSeconds = (((numberOfDays * 24 + hours) * 60) + minutes) * 60 + seconds;
        return (long) (numberOfSeconds * 1e6);
    }

    static void writeMicroDuration(byte[] t, int off, int len, JsonBuffer out) {
        out.writeLong(intervalMicros(t, off, len));
    }
}
