package io.pgrelay.agent.core;

/**
 * One result of a preflight or health check, written as a line a user acts on:
 * {@code postgres: wal_level is 'replica'; set wal_level = logical in postgresql.conf and restart PostgreSQL}.
 */
public record Finding(Status status, String message) {

    public enum Status {
        /** as it should be */
        OK,
        /** worth reading, but stops nothing: mostly what {@code init} (or {@code run}) creates by itself */
        NOTE,
        /** needs a person: the message says what to do */
        FAIL
    }

    public static Finding ok(String message) {
        return new Finding(Status.OK, message);
    }

    public static Finding note(String message) {
        return new Finding(Status.NOTE, message);
    }

    public static Finding fail(String message) {
        return new Finding(Status.FAIL, message);
    }

    public boolean failed() {
        return status == Status.FAIL;
    }

    @Override
    public String toString() {
        return String.format("%-4s  %s", status, message);
    }
}
