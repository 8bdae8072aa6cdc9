package io.pgrelay.agent.event;

/** A change that cannot be written as JSON as DESIGN.md specifies; the message names table and column. */
public final class EventEncodingException extends RuntimeException {

    public EventEncodingException(String message) {
        super(message);
    }
}
