package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The latency workload: a steady rate of row changes into {@code (id bigint primary key, version
 * int, payload text)}, in transactions of 10 — 6 inserts, 3 updates of random live rows, 1 delete
 * of the oldest row — paced by a schedule (a late transaction does not shift the ones after it).
 */
final class SteadyLoad {

    static final int CHANGES_PER_TRANSACTION = 10;
    private static final int INSERTS = 6;
    private static final int UPDATES = 3;

    private final int changesPerSecond;
    private final double seconds;

    /** @param changesPerSecond row changes a second (e.g. 5,000); @param seconds how long to write */
    SteadyLoad(int changesPerSecond, double seconds) {
        this.changesPerSecond = changesPerSecond;
        this.seconds = seconds;
    }

    double seconds() {
        return seconds;
    }

    String describe() {
        return String.format(java.util.Locale.ROOT, "steady %,d rows/s mixed insert/update/delete for %.0f s", changesPerSecond, seconds);
    }

    /** The workload being written on a thread of its own (see {@link #start}). */
    static final class Run {
        private final Thread thread;
        private volatile long written = -1;
        private volatile Exception failure;

        private Run(SteadyLoad load, Sandbox sandbox, String table) {
            thread = new Thread(() -> {
                try {
                    written = load.write(sandbox, table);
                } catch (Exception e) {
                    failure = e;
                }
            }, "bench-steady-load");
            thread.start();
        }

        boolean running() {
            return thread.isAlive();
        }

        /** Row changes committed once it ended; -1 before. */
        long written() {
            return written;
        }

        /** Throws if the load failed. */
        void check() {
            if (failure != null) {
                throw new IllegalStateException("the steady load failed", failure);
            }
        }

        /** Waits for the end; returns the row changes committed. */
        long await() throws InterruptedException {
            thread.join();
            check();
            return written;
        }
    }

    /** Starts writing the workload into {@code table} on a thread of its own. */
    Run start(Sandbox sandbox, String table) {
        return new Run(this, sandbox, table);
    }

    /** Writes the workload into {@code table} (which exists and is empty); returns how many row changes were committed. */
    long write(Sandbox sandbox, String table) throws SQLException {
        long transactions = (long) (seconds * changesPerSecond / CHANGES_PER_TRANSACTION);
        double nanosPerTransaction = 1e9 * CHANGES_PER_TRANSACTION / changesPerSecond;
        long nextId = 1;
        long oldest = 1;
        try (Connection c = sandbox.postgres().connect();
             PreparedStatement ins = c.prepareStatement("INSERT INTO " + table + " (id, version, payload) VALUES (?, 0, repeat('x', 100) || ?)");
             PreparedStatement upd = c.prepareStatement("UPDATE " + table + " SET version = version + 1 WHERE id = ?");
             PreparedStatement del = c.prepareStatement("DELETE FROM " + table + " WHERE id = ?")) {
            // The sandbox runs with synchronous_commit=off (fast setup); a walsender sends only flushed WAL,
            // so commits would reach the stream up to wal_writer_delay (200 ms) late. Commit as production does.
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("SET synchronous_commit = on");
            }
            c.setAutoCommit(false);
            long start = System.nanoTime();
            for (long tx = 0; tx < transactions; tx++) {
                long wait = start + (long) (tx * nanosPerTransaction) - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                for (int i = 0; i < INSERTS; i++, nextId++) {
                    ins.setLong(1, nextId);
                    ins.setLong(2, nextId);
                    ins.addBatch();
                }
                ins.executeBatch();
                for (int i = 0; i < UPDATES; i++) {
                    // live rows are oldest+1 .. nextId-1: the delete below takes oldest
                    upd.setLong(1, ThreadLocalRandom.current().nextLong(oldest + 1, nextId));
                    upd.addBatch();
                }
                upd.executeBatch();
                del.setLong(1, oldest++);
                del.executeUpdate();
                c.commit();
            }
            System.err.printf("bench: %s: %,d transactions in %.1f s%n", describe(), transactions,
                    (System.nanoTime() - start) / 1e9);
            return transactions * CHANGES_PER_TRANSACTION;
        }
    }
}
