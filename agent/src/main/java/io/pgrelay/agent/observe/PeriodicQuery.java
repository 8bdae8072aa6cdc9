package io.pgrelay.agent.observe;

import io.pgrelay.agent.postgres.PgConnections;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A daemon thread that runs a piece of SQL every interval, on a connection borrowed from the
 * agent's pool for the round ({@link PgConnections#borrow()}): short work, like the election's, so
 * it costs no login of its own (with TLS and SCRAM, a handshake and a key derivation each), and a
 * round on a silent network fails after the pool's socket timeout instead of waiting. A failure is
 * logged once until the next success.
 */
abstract class PeriodicQuery implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PeriodicQuery.class);

    private final PgConnections connections;
    private final Duration interval;
    private final String what;
    private final Thread thread;
    private volatile boolean closed;

    PeriodicQuery(PgConnections connections, Duration interval, String threadName, String what) {
        this.connections = connections;
        this.interval = interval;
        this.what = what;
        this.thread = new Thread(this::loop, threadName);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Runs once per interval on the task's connection. */
    protected abstract void run(Connection connection) throws SQLException;

    /** Whether to run this round at all. */
    protected boolean due() {
        return true;
    }

    /** Called after a failed round, before the failure is logged (once). */
    protected void failed(Exception e) {
    }

    private void loop() {
        boolean warned = false;
        while (!closed) {
            if (due()) {
                try (Connection connection = connections.borrow()) {
                    run(connection);
                    warned = false;
                } catch (SQLException e) {
                    failed(e);
                    if (!warned) {
                        log.warn("{}: {}", what, e.getMessage());
                        warned = true;
                    }
                }
            }
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
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
    }
}
