package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** {@code M}: a message written by {@code pg_logical_emit_message}; sent only with {@code messages 'true'}. */
public record LogicalMessage(boolean transactional, Lsn lsn, String prefix, byte[] content) implements PgMessage {

    /** The content read as UTF-8, for messages known to be text. */
    public String contentText() {
        return new String(content, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogicalMessage m && m.transactional == transactional && m.lsn.equals(lsn)
                && m.prefix.equals(prefix) && Arrays.equals(m.content, content);
    }

    @Override
    public int hashCode() {
        return (lsn.hashCode() * 31 + prefix.hashCode()) * 31 + Arrays.hashCode(content);
    }

    @Override
    public String toString() {
        return "LogicalMessage[transactional=" + transactional + ", lsn=" + lsn + ", prefix=" + prefix
                + ", content=" + content.length + " bytes]";
    }
}
