package io.pgrelay.coordination;

import java.sql.SQLException;

/**
 * Thrown by a {@link Leader} when the replication slot is held by another walsender: another
 * agent won the race (or a stale walsender still holds it). The election stays standby.
 */
public final class SlotBusyException extends Exception {

    /** PostgreSQL's {@code object_in_use}: "replication slot … is active for PID …". */
    public static final String OBJECT_IN_USE = "55006";

    private static final long serialVersionUID = 1L;

    public SlotBusyException(String slot, SQLException cause) {
        super("replication slot \"" + slot + "\" is held by another walsender: " + cause.getMessage(), cause);
    }

    /** True when {@code e}, or any exception it wraps or chains, carries SQLSTATE 55006. */
    public static boolean isSlotBusy(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                for (SQLException s = sql; s != null; s = s.getNextException()) {
                    if (OBJECT_IN_USE.equals(s.getSQLState())) {
                        return true;
                    }
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
