package io.pgrelay.agent.pgoutput;

/** pgoutput bytes that cannot be decoded: truncated, of an unknown type, or otherwise not protocol version 1. */
public final class PgOutputException extends RuntimeException {

    public PgOutputException(String message) {
        super(message);
    }
}
