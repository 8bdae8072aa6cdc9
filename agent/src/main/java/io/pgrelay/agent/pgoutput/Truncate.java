package io.pgrelay.agent.pgoutput;

import java.util.Arrays;

/** {@code T}: one TRUNCATE statement, over one or more relations. */
public record Truncate(int options, int[] relationIds) implements PgMessage {

    /** Option bit: {@code TRUNCATE … CASCADE}. */
    public static final int CASCADE = 1;
    /** Option bit: {@code TRUNCATE … RESTART IDENTITY}. */
    public static final int RESTART_IDENTITY = 2;

    public boolean cascade() {
        return (options & CASCADE) != 0;
    }

    public boolean restartIdentity() {
        return (options & RESTART_IDENTITY) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Truncate t && t.options == options && Arrays.equals(t.relationIds, relationIds);
    }

    @Override
    public int hashCode() {
        return 31 * options + Arrays.hashCode(relationIds);
    }

    @Override
    public String toString() {
        return "Truncate[options=" + options + ", relationIds=" + Arrays.toString(relationIds) + "]";
    }
}
