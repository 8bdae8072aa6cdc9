package io.pgrelay.agent.config;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A configured secret (password, token). {@link #toString} and Jackson both give {@code ****}, so
 * the value cannot reach a log line, an exception message or a JSON document by accident; only
 * {@link #reveal} gives it, at the one place that hands it to a driver.
 */
public final class Secret {

    public static final Secret EMPTY = new Secret("");
    public static final String MASK = "****";

    private final String value;

    private Secret(String value) {
        this.value = value;
    }

    public static Secret of(String value) {
        return value == null || value.isEmpty() ? EMPTY : new Secret(value);
    }

    /** The secret itself: hand it to a driver, never to a logger. */
    public String reveal() {
        return value;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** What Jackson writes for a secret: the mask, never the value. */
    @JsonValue
    public String masked() {
        return isEmpty() ? "" : MASK;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && other.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return MASK;
    }
}
