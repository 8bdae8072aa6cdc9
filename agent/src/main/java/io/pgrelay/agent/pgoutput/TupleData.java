package io.pgrelay.agent.pgoutput;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The column values of one row, as pgoutput sent them: a view over the message's own bytes,
 * nothing copied. Values are PostgreSQL's text output (kind {@code 't'}) unless binary transfer
 * was requested ({@code 'b'}); {@code 'n'} is SQL NULL and {@code 'u'} an unchanged TOASTed value
 * that PostgreSQL did not send.
 *
 * <p>The view stays valid as long as nobody overwrites the message's bytes; pgjdbc hands out a
 * fresh array per replication message, so holding a tuple while it travels the pipeline is safe.
 */
public final class TupleData {

    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';
    public static final byte BINARY = 'b';

    private final byte[] buffer;
    private final byte[] kinds;
    private final int[] offsets;
    private final int[] lengths;

    /** Wraps already-parsed positions; {@code offsets} index {@code buffer} directly. */
    TupleData(byte[] buffer, byte[] kinds, int[] offsets, int[] lengths) {
        this.buffer = buffer;
        this.kinds = kinds;
        this.offsets = offsets;
        this.lengths = lengths;
    }

    public int size() {
        return kinds.length;
    }

    /** {@code 'n'} null, {@code 'u'} unchanged TOAST (value not sent), {@code 't'} text, {@code 'b'} binary. */
    public byte kind(int i) {
        return kinds[i];
    }

    public boolean isNull(int i) {
        return kinds[i] == NULL;
    }

    public boolean isUnchangedToast(int i) {
        return kinds[i] == UNCHANGED_TOAST;
    }

    /** The array holding the values; shared, never modify it. */
    public byte[] buffer() {
        return buffer;
    }

    /** Where column {@code i}'s value starts in {@link #buffer()}; 0 for null and unchanged values. */
    public int offset(int i) {
        return offsets[i];
    }

    /** The value's length in bytes; 0 for null and unchanged values. */
    public int length(int i) {
        return lengths[i];
    }

    /** The value as a string (UTF-8), or null for 'n' and 'u'. Allocates: for tests and slow paths. */
    public String text(int i) {
        byte kind = kinds[i];
        if (kind != TEXT && kind != BINARY) {
            return null;
        }
        return new String(buffer, offsets[i], lengths[i], StandardCharsets.UTF_8);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Equal when every column has the same kind and the same bytes (wherever they live). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TupleData t) || t.size() != size()) {
            return false;
        }
        for (int i = 0; i < kinds.length; i++) {
            if (t.kinds[i] != kinds[i] || !Arrays.equals(buffer, offsets[i], offsets[i] + lengths[i],
                    t.buffer, t.offsets[i], t.offsets[i] + t.lengths[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = 0; i < kinds.length; i++) {
            h = 31 * h + kinds[i];
            for (int j = offsets[i]; j < offsets[i] + lengths[i]; j++) {
                h = 31 * h + buffer[j];
            }
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("TupleData[");
        for (int i = 0; i < kinds.length; i++) {
            if (i > 0) {
                s.append(", ");
            }
            switch (kinds[i]) {
                case NULL -> s.append("null");
                case UNCHANGED_TOAST -> s.append("<unchanged toast>");
                case BINARY -> s.append("<").append(lengths[i]).append(" binary bytes>");
                default -> s.append('\'').append(text(i)).append('\'');
            }
        }
        return s.append(']').toString();
    }

    /** Builds a tuple from values, for tests and for rows read outside replication (snapshots). */
    public static final class Builder {
        private byte[] buffer = new byte[64];
        private int used;
        private byte[] kinds = new byte[8];
        private int[] offsets = new int[8];
        private int[] lengths = new int[8];
        private int size;

        /** A text value; null stands for SQL NULL. */
        public Builder text(String value) {
            return value == null ? nul() : add(TEXT, value.getBytes(StandardCharsets.UTF_8));
        }

        public Builder nul() {
            return add(NULL, new byte[0]);
        }

        public Builder unchangedToast() {
            return add(UNCHANGED_TOAST, new byte[0]);
        }

        public Builder binary(byte[] value) {
            return add(BINARY, value);
        }

        private Builder add(byte kind, byte[] value) {
            if (size == kinds.length) {
                kinds = Arrays.copyOf(kinds, size * 2);
                offsets = Arrays.copyOf(offsets, size * 2);
                lengths = Arrays.copyOf(lengths, size * 2);
            }
            if (used + value.length > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, used + value.length));
            }
            System.arraycopy(value, 0, buffer, used, value.length);
            kinds[size] = kind;
            offsets[size] = value.length == 0 ? 0 : used;
            lengths[size] = value.length;
            used += value.length;
            size++;
            return this;
        }

        public TupleData build() {
            return new TupleData(Arrays.copyOf(buffer, used), Arrays.copyOf(kinds, size),
                    Arrays.copyOf(offsets, size), Arrays.copyOf(lengths, size));
        }
    }
}
