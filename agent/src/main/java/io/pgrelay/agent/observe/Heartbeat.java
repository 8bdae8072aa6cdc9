package io.pgrelay.agent.observe;

import io.pgrelay.agent.postgres.PgConnections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * While this agent streams, writes {@code pg_logical_emit_message(false, 'pgrelay.heartbeat', now)}
 * every interval. Why: when the published tables are idle but other tables are busy, the slot
 * receives nothing, so the last message it sent stays unconfirmed-past and pgjdbc's automatic
 * flush (which moves the flushed LSN on a keepalive only once our explicit flush covers the last
 * message) cannot advance it: WAL piles up. The message is non-transactional, so it is decoded at
 * once, reaches the pipeline outside any transaction, and the pipeline confirms its LSN when no
 * Kafka transaction is open — after which keepalives move the slot on to the server's WAL end.
 */
public final class Heartbeat extends PeriodicQuery {

    static final String PREFIX = "pgrelay.heartbeat";

    private final BooleanSupplier streaming;

    public Heartbeat(PgConnections connections, String slot, Duration interval, BooleanSupplier streaming) {
        super(connections, interval, "pgrelay-heartbeat", "slot " + slot + ": heartbeat message failed");
        this.streaming = streaming;
    }

    @Override
    protected boolean due() {
        return streaming.getAsBoolean();
    }

    @Override
    protected void run(Connection connection) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_logical_emit_message(false, ?, ?)")) {
            ps.setString(1, PREFIX);
            ps.setString(2, Instant.now().toString());
            ps.execute();
        }
    }
}
