package io.pgrelay.agent.postgres;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.config.Secret;
import io.pgrelay.agent.core.TableId;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real PostgreSQL servers for the tests, started once per test JVM and stopped at its exit: one
 * with {@code wal_level=logical}, and one left at {@code replica} for the preflight test. Each test
 * takes a fresh database ({@link #newDatabase}) and unique slot names, so tests do not see each
 * other's tables, publications or slots.
 */
public final class TestPostgres {

    private static final AtomicInteger SEQ = new AtomicInteger();
    private static EmbeddedPostgres logical;
    private static EmbeddedPostgres replica;

    private TestPostgres() {
    }

    public static synchronized EmbeddedPostgres logical() {
        if (logical == null) {
            logical = start(true);
        }
        return logical;
    }

    public static synchronized EmbeddedPostgres replica() {
        if (replica == null) {
            replica = start(false);
        }
        return replica;
    }

    private static EmbeddedPostgres start(boolean logicalWal) {
        try {
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder();
            if (logicalWal) {
                b.setServerConfig("wal_level", "logical");
            }
            EmbeddedPostgres pg = b.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            }));
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new empty database on the server; its name. */
    public static String newDatabase(EmbeddedPostgres pg) throws SQLException {
        String name = "t" + SEQ.incrementAndGet() + "_" + ProcessHandle.current().pid();
        superuserSql(pg, "postgres", "CREATE DATABASE " + name);
        return name;
    }

    public static String uniqueName(String prefix) {
        return prefix + "_" + SEQ.incrementAndGet() + "_" + ProcessHandle.current().pid();
    }

    public static String url(EmbeddedPostgres pg, String database) {
        return "jdbc:postgresql://localhost:" + pg.getPort() + "/" + database;
    }

    public static void superuserSql(EmbeddedPostgres pg, String database, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url(pg, database), "postgres", "");
             Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    public static PostgresConfig config(EmbeddedPostgres pg, String database, String user, String slot, String publication,
                                 List<TableId> tables) {
        return new PostgresConfig(url(pg, database), user, Secret.EMPTY, slot, publication, tables, Duration.ofSeconds(1),
                Duration.ofSeconds(5));
    }
}
