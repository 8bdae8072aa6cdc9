package io.pgrelay.coordination;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Opens a plain (non-replication) JDBC connection to the database that holds the slot, e.g.
 * {@code dataSource::getConnection}. The election closes every connection it opens; it needs
 * {@code pg_read_all_stats} (or superuser) to see other walsenders' rows and
 * {@code pg_signal_backend} rights, or the same role as the walsenders, to terminate them.
 */
@FunctionalInterface
public interface ConnectionSource {
    Connection open() throws SQLException;
}
