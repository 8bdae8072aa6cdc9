package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** What happened to a row; JSON and headers spell it in lower case ({@code "insert"}). */
public enum Op {
    INSERT, UPDATE, DELETE, TRUNCATE, SNAPSHOT;

    private final String jsonName = name().toLowerCase(Locale.ROOT);
    private final byte[] quoted = ('"' + jsonName + '"').getBytes(StandardCharsets.US_ASCII);

    public String jsonName() {
        return jsonName;
    }

    /** The name as a JSON string, encoded once. */
    byte[] quotedJson() {
        return quoted;
    }
}
