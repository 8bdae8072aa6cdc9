package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * A PostgreSQL 17 primary and a physical standby of it, set up for failover slots as a production
 * pair would be: the standby streams through a physical slot the primary lists in
 * {@code synchronized_standby_slots} (logical walsenders send nothing the standby has not
 * received), commits wait for it ({@code synchronous_standby_names}, {@code synchronous_commit =
 * on}: an acknowledged commit survives a promotion), and it copies failover slots
 * ({@code sync_replication_slots}, {@code hot_standby_feedback}, {@code primary_slot_name}, a
 * {@code dbname} in {@code primary_conninfo}).
 *
 * <p>The standby starts from a base backup taken while the primary runs ({@code pg_backup_start},
 * a file copy, {@code pg_backup_stop}) and fetches the WAL since from the primary through its slot.
 */
public final class FailoverPair implements AutoCloseable {

    /** The primary's physical slot for the standby; also the standby's {@code application_name}. */
    public static final String STANDBY_SLOT = "pgrelay_standby";
    /** Not copied into a base backup: PostgreSQL's own list, plus the sandbox's lock file. */
    private static final Set<String> SKIPPED_FILES = Set.of("postmaster.pid", "postmaster.opts", "epg-lock", "backup_label",
            "tablespace_map", "standby.signal", "recovery.signal");
    private static final Set<String> EMPTIED_DIRECTORIES = Set.of("pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem",
            "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans");

    private final Postgres primary;
    private final Postgres standby;
    private boolean primaryStopped; // guarded by this
    private boolean primaryCrashed; // guarded by this

    private FailoverPair(Postgres primary, Postgres standby) {
        this.primary = primary;
        this.standby = standby;
    }

    /** Starts both servers; returns once the standby streams synchronously from the primary. */
    public static FailoverPair start() throws IOException {
        Postgres primary = Postgres.start("synchronous_commit", "on");
        try {
            primary.execute("SELECT pg_create_physical_replication_slot('" + STANDBY_SLOT + "', true)");
            Postgres standby = startStandby(primary);
            FailoverPair pair = new FailoverPair(primary, standby);
            // Set now, not before the backup: the standby's copy must not wait for a standby of its own.
            primary.execute("ALTER SYSTEM SET synchronized_standby_slots = '" + STANDBY_SLOT + "'",
                    "ALTER SYSTEM SET synchronous_standby_names = '" + STANDBY_SLOT + "'", "SELECT pg_reload_conf()");
            pair.awaitSynchronousStandby();
            return pair;
        } catch (IOException | RuntimeException e) {
            primary.close();
            throw e;
        }
    }

    private static Postgres startStandby(Postgres primary) throws IOException {
        Path dir = Files.createTempDirectory("pgrelay-pg-standby-");
        int port = Ports.free();
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_backup_start('pgrelay sandbox standby', true)");
            copyDataDirectory(primary.dataDir(), dir);
            try (ResultSet rs = s.executeQuery("SELECT labelfile FROM pg_backup_stop(false)")) {
                rs.next();
                Files.writeString(dir.resolve("backup_label"), rs.getString(1));
            }
        } catch (SQLException | IOException | RuntimeException e) {
            Directories.deleteRecursively(dir);
            throw new IOException("base backup of " + primary.jdbcUrl() + " failed: " + e.getMessage(), e);
        }
        Files.createFile(dir.resolve("standby.signal"));
        // Later lines of postgresql.auto.conf win over the primary's copied ones.
        Files.writeString(dir.resolve("postgresql.auto.conf"), String.join("\n",
                "primary_conninfo = 'host=127.0.0.1 port=" + primary.port() + " user=postgres dbname=postgres application_name="
                        + STANDBY_SLOT + "'",
                "primary_slot_name = '" + STANDBY_SLOT + "'",
                "hot_standby_feedback = on",
                "sync_replication_slots = on",
                "synchronous_standby_names = ''",
                "synchronized_standby_slots = ''",
                ""), StandardOpenOption.APPEND);
        return Postgres.startOn(dir, port, "synchronous_commit", "on");
    }

    /** A copy of a running server's data directory, for a base backup between pg_backup_start and pg_backup_stop. */
    private static void copyDataDirectory(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String relative = from.relativize(dir).toString();
                Files.createDirectories(to.resolve(relative));
                return EMPTIED_DIRECTORIES.contains(relative) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String relative = from.relativize(file).toString();
                if (SKIPPED_FILES.contains(relative) || file.getFileName().toString().startsWith("pgsql_tmp")) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, to.resolve(relative), StandardCopyOption.REPLACE_EXISTING);
                } catch (NoSuchFileException gone) {
                    // removed while we copied (a temporary file): WAL replay does not need it
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
    }

    private void awaitSynchronousStandby() {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!"sync".equals(queryOne(primary, "SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
                + STANDBY_SLOT + "'"))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("standby on port " + standby.port() + " not streaming synchronously within 60 s");
            }
            sleep(100);
        }
    }

    public Postgres primary() {
        return primary;
    }

    public Postgres standby() {
        return standby;
    }

    /** Both servers, the primary first, for clients that follow a promotion: {@code targetServerType=primary}. */
    public String multiHostUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + standby.port() + "/" + database
                + "?targetServerType=primary";
    }

    /** {@code synced} of the slot on the standby, and that it is no longer temporary (ready for a promotion). */
    public boolean syncedOnStandby(String slot) {
        return "t".equals(queryOne(standby, "SELECT synced AND NOT temporary FROM pg_replication_slots WHERE slot_name = '"
                + slot.replace("'", "''") + "'"));
    }

    /** Promotes the standby ({@code pg_promote()}, waiting for it); returns the last LSN it replayed as a standby. */
    public String promote() {
        if (!"t".equals(queryOne(standby, "SELECT pg_promote(true, 60)"))) {
            throw new IllegalStateException("pg_promote() on port " + standby.port() + " did not finish within 60 s");
        }
        return queryOne(standby, "SELECT pg_last_wal_replay_lsn()::text");
    }

    /** Stops the old primary as a crash would ({@link Postgres#crash()}). */
    public synchronized void crashPrimary() throws IOException, InterruptedException {
        if (!primaryStopped) {
            primaryCrashed = true;
            primary.crash();
        }
    }

    /** Stops the old primary if it still runs and deletes its data directory. */
    private synchronized void stopPrimary() throws IOException {
        if (!primaryStopped) {
            primaryStopped = true;
            try {
                primary.close();
            } catch (RuntimeException e) {
                if (!primaryCrashed) {
                    throw e;
                }
                // pg_ctl stop after a crash finds no server: the data directory is deleted all the same
            }
        }
    }

    public static String queryOne(Postgres server, String sql) {
        try (Connection c = server.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("on port " + server.port() + ": " + e.getMessage(), e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            standby.close();
        } catch (IOException | RuntimeException e) {
            stopPrimaryQuietly(e);
            throw e;
        }
        stopPrimary();
    }

    private void stopPrimaryQuietly(Exception failure) {
        try {
            stopPrimary();
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
