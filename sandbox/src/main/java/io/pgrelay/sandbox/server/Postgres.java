package io.pgrelay.sandbox.server;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;

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
        Path dataDir = Files.createTempDirectory("pgrelay-pg-");
        EmbeddedPostgres.Builder builder = builder(major, dataDir).setCleanDataDirectory(true);
        for (int i = 0; i + 1 < extraSettings.length; i += 2) {
            builder.setServerConfig(extraSettings[i], extraSettings[i + 1]);
        }
        return new Postgres(builder.start(), dataDir);
    }

    /**
     * Starts a server on a data directory prepared by the caller (a base backup: {@link FailoverPair}),
     * which it takes over: {@link #close()} deletes it. Settings given here override the files'.
     */
    static Postgres startOn(Path dataDir, int port, String... settings) throws IOException {
        EmbeddedPostgres.Builder builder = builder(PostgresBinaries.DEFAULT_MAJOR, dataDir)
                .setCleanDataDirectory(false)   // keep the backup: initdb only runs on an empty directory
                .setPort(port);
        for (int i = 0; i + 1 < settings.length; i += 2) {
            builder.setServerConfig(settings[i], settings[i + 1]);
        }
        try {
            return new Postgres(builder.start(), dataDir);
        } catch (IOException | RuntimeException e) {
            Directories.deleteRecursively(dataDir);
            throw e;
        }
    }

    private static EmbeddedPostgres.Builder builder(int major, Path dataDir) throws IOException {
        PgBinaryResolver binaries = PostgresBinaries.resolver(major);
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
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
        return builder;
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

    /** The data directory (the server's own: read, never write, while it runs). */
    Path dataDir() {
        return dataDir;
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

    /**
     * Stops the server as a crash would: SIGKILL to the postmaster alone; its processes notice the
     * postmaster's death and exit, with no shutdown checkpoint and no walsender kept on to send the
     * last WAL. {@link #close()} then only cleans up.
     */
    public void crash() throws IOException, InterruptedException {
        long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
        ProcessHandle postmaster = ProcessHandle.of(pid)
                .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false))
                .orElseThrow(() -> new IOException("process " + pid + " of " + dataDir + "/postmaster.pid is no postgres"));
        postmaster.destroyForcibly();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (postmaster.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
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
