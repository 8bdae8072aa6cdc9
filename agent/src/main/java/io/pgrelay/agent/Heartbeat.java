package io.pgrelay.agent;

import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
final class Heartbeat implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    static final String PREFIX = "pgrelay.heartbeat";

    private final PgConnections connections;
    private final String slot;
    private final Duration interval;
    private final BooleanSupplier streaming;
    private final Thread thread;
    private volatile boolean closed;
    private Connection connection; // only the heartbeat thread touches it

    Heartbeat(PgConnections connections, String slot, Duration interval, BooleanSupplier streaming) {
        this.connections = connections;
        this.slot = slot;
        this.interval = interval;
        this.streaming = streaming;
        this.thread = new Thread(this::loop, "pgrelay-heartbeat");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        boolean warned = false;
        while (!closed) {
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            if (!streaming.getAsBoolean()) {
                continue;
            }
            try {
                emit();
                warned = false;
            } catch (SQLException | PgConnectException e) {
                closeConnection();
                if (!warned) {
                    log.warn("slot {}: heartbeat message failed: {}", slot, e.getMessage());
                    warned = true;
                }
            }
        }
    }

    private void emit() throws SQLException, PgConnectException {
        if (connection == null || connection.isClosed()) {
            connection = connections.open();
            connection.setAutoCommit(true);
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_logical_emit_message(false, ?, ?)")) {
            ps.setString(1, PREFIX);
            ps.setString(2, Instant.now().toString());
            ps.execute();
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // already broken
        }
        connection = null;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeConnection();
    }
}
