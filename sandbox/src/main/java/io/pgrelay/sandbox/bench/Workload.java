package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The bulk workloads: inserts into {@code (id bigint primary key, version int, payload text)}, ~100-byte payloads. */
enum Workload {

    /** Rows in transactions of 1,000. */
    BATCHED("b", "%,d rows as %,d transactions of 1,000", 1_000),
    /** Every row in one transaction. */
    ONE_TRANSACTION("o", "%,d rows in one transaction", Integer.MAX_VALUE);

    final String tag;
    private final String description;
    private final int rowsPerTransaction;

    Workload(String tag, String description, int rowsPerTransaction) {
        this.tag = tag;
        this.description = description;
        this.rowsPerTransaction = rowsPerTransaction;
    }

    String describe(long rows) {
        return String.format(description, rows, (rows + rowsPerTransaction - 1) / rowsPerTransaction);
    }

    /** Inserts the rows into {@code table}, which exists and is empty. */
    void write(Sandbox sandbox, String table, long rows) throws SQLException {
        try (Connection c = sandbox.postgres().connect()) {
            c.setAutoCommit(true);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + table
                    + " SELECT g, 0, repeat('x', 100) || g FROM generate_series(?::bigint, ?::bigint) g")) {
                for (long first = 1; first <= rows; first += rowsPerTransaction) {
                    ins.setLong(1, first);
                    ins.setLong(2, Math.min(rows, first + rowsPerTransaction - 1));
                    ins.executeUpdate();
                }
            }
        }
    }
}
