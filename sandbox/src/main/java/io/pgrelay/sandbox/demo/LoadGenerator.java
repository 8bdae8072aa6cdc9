package io.pgrelay.sandbox.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Writes a known load into a table {@code (id bigint primary key, version int, payload text)}: each
 * transaction inserts new rows and bumps the version of some earlier rows, so a reader can check
 * that every row arrives once and each key's versions arrive in order.
 */
public final class LoadGenerator {

    private final Supplier<Connection> connections;
    private final String table;
    private final AtomicLong inserted = new AtomicLong();
    private final AtomicLong updated = new AtomicLong();
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong transactions = new AtomicLong();

    public LoadGenerator(Supplier<Connection> connections, String table) {
        this.connections = connections;
        this.table = table;
    }

    public void createTable() {
        try (Connection c = connections.get(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id bigint PRIMARY KEY, version int NOT NULL, payload text)");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes {@code rows} new rows in transactions of {@code rowsPerTransaction} inserts, each
     * transaction also updating {@code updatesPerTransaction} random earlier rows.
     */
    public void write(long rows, int rowsPerTransaction, int updatesPerTransaction) {
        write(rows, rowsPerTransaction, updatesPerTransaction, 0, new AtomicBoolean());
    }

    /** As {@link #write(long, int, int)}, at most {@code rowsPerSecond} inserts a second (0: as fast as possible), until stopped. */
    public void write(long rows, int rowsPerTransaction, int updatesPerTransaction, int rowsPerSecond, AtomicBoolean stop) {
        try (Connection c = connections.get()) {
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + table + " (id, version, payload) VALUES (?, 0, ?)");
                 PreparedStatement upd = c.prepareStatement("UPDATE " + table + " SET version = version + 1 WHERE id = ?")) {
                while (inserted.get() < rows && !stop.get()) {
                    long first = inserted.get();
                    int n = (int) Math.min(rowsPerTransaction, rows - first);
                    for (int i = 0; i < n; i++) {
                        ins.setLong(1, first + i);
                        ins.setString(2, "row " + (first + i));
                        ins.addBatch();
                    }
                    ins.executeBatch();
                    int updates = first == 0 ? 0 : updatesPerTransaction;
                    for (int i = 0; i < updates; i++) {
                        upd.setLong(1, ThreadLocalRandom.current().nextLong(first));
                        upd.addBatch();
                    }
                    if (updates > 0) {
                        upd.executeBatch();
                    }
                    c.commit();
                    inserted.addAndGet(n);
                    updated.addAndGet(updates);
                    transactions.incrementAndGet();
                    if (rowsPerSecond > 0) {
                        long due = start + (long) (inserted.get() * 1e9 / rowsPerSecond);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("load on " + table + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public long inserted() {
        return inserted.get();
    }

    public long updated() {
        return updated.get();
    }

    public long deleted() {
        return deleted.get();
    }

    public long transactions() {
        return transactions.get();
    }
}
