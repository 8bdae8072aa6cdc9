package io.pgrelay.sandbox;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A real PostgreSQL server on 127.0.0.1 from the embedded binaries, with {@code wal_level=logical}.
 * The superuser is {@code postgres} with no password (trust on loopback).
 */
public final class Postgres implements AutoCloseable {

    private final EmbeddedPostgres server;
    private final Path dataDir;

    private Postgres(EmbeddedPostgres server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    /** Starts a server with logical replication on. Extra settings override the defaults. */
    public static Postgres start(String... extraSettings) throws IOException {
        return start(PostgresBinaries.DEFAULT_MAJOR, extraSettings);
    }

    /** Starts PostgreSQL {@code major} (15 to 18) with logical replication on. */
    public static Postgres start(int major, String... extraSettings) throws IOException {
        io.zonky.test.db.postgres.embedded.PgBinaryResolver binaries = PostgresBinaries.resolver(major);
        Path dataDir = Files.createTempDirectory("pgrelay-pg-");
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(true)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_replication_slots", "20")
                .setServerConfig("max_wal_senders", "20")
                .setServerConfig("max_connections", "200")
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                .setServerConfig("max_wal_size", "4GB")
                .setServerConfig("shared_buffers", "256MB")
                .setServerConfig("timezone", "UTC");
        if (binaries != null) {
            builder.setPgBinaryResolver(binaries);
        }
        for (int i = 0; i + 1 < extraSettings.length; i += 2) {
            builder.setServerConfig(extraSettings[i], extraSettings[i + 1]);
        }
        return new Postgres(builder.start(), dataDir);
    }

    public int port() {
        return server.getPort();
    }

    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    public String superuser() {
        return "postgres";
    }

    /** A connection as the superuser to the {@code postgres} database, autocommit on. */
    public Connection connect() throws SQLException {
        return server.getPostgresDatabase().getConnection();
    }

    /** {@link #connect()} as a supplier (for the load generator), failures unchecked. */
    public java.util.function.Supplier<Connection> connections() {
        return () -> {
            try {
                return connect();
            } catch (SQLException e) {
                throw new IllegalStateException("cannot connect to " + jdbcUrl() + ": " + e.getMessage(), e);
            }
        };
    }

    /** Runs statements as the superuser, each in its own transaction. */
    public void execute(String... sql) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            Directories.deleteRecursively(dataDir);
        }
    }
}
