package io.pgrelay.agent.postgres;

/**
 * PostgreSQL could not be reached or refused the login. The message is one line meant for the
 * user, and never holds the password.
 */
public final class PgConnectException extends Exception {

    private final String sqlState;

    PgConnectException(String message, String sqlState, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    /** The SQLSTATE PostgreSQL or pgjdbc gave ({@code 28P01} bad password, {@code 08001} unreachable …), or null. */
    public String sqlState() {
        return sqlState;
    }
}
