package io.pgrelay.agent.event;

/**
 * Writes one column value, given in PostgreSQL's text output form, as JSON. Chosen once per
 * column when a relation is registered ({@link ValueCodecs#forType}); must not allocate per value.
 */
@FunctionalInterface
public interface ValueCodec {

    /** Writes the JSON for the UTF-8 text {@code text[off, off + len)}. */
    void write(byte[] text, int off, int len, JsonBuffer out);
}
