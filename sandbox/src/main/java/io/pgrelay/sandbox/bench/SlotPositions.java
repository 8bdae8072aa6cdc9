package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Reads a slot's {@code confirmed_flush_lsn} from {@code pg_replication_slots}. */
final class SlotPositions implements AutoCloseable {

    private final Connection connection;
    private final PreparedStatement confirmed;
    private final PreparedStatement active;

    SlotPositions(Sandbox sandbox) throws SQLException {
        connection = sandbox.postgres().connect();
        confirmed = connection.prepareStatement(
                "SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = ?");
        active = connection.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?");
    }

    /** Whether a walsender holds the slot. */
    boolean active(String slot) throws SQLException {
        active.setString(1, slot);
        try (ResultSet rs = active.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** The slot's confirmed flush LSN as a number, or -1 when the slot has none (or is gone). */
    long confirmedFlush(String slot) throws SQLException {
        confirmed.setString(1, slot);
        try (ResultSet rs = confirmed.executeQuery()) {
            return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : -1;
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
