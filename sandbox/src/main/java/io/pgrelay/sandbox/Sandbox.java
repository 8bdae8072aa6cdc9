package io.pgrelay.sandbox;

import io.pgrelay.sandbox.server.Kafka;
import io.pgrelay.sandbox.server.Postgres;
import io.pgrelay.sandbox.server.PostgresBinaries;
import io.pgrelay.sandbox.server.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real servers every integration test and the demo use: PostgreSQL, Kafka and ZooKeeper on
 * 127.0.0.1. {@link #shared()} starts them once per JVM; they stop when the JVM's test run ends
 * (see {@link SandboxExtension}) or at JVM exit.
 */
public final class Sandbox implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
    private static Sandbox shared;

    private final Postgres postgres;
    private final Kafka kafka;
    private final ZooKeeper zookeeper;

    private Sandbox(Postgres postgres, Kafka kafka, ZooKeeper zookeeper) {
        this.postgres = postgres;
        this.kafka = kafka;
        this.zookeeper = zookeeper;
    }

    /** The servers of this JVM, started on first use. */
    public static synchronized Sandbox shared() {
        if (shared == null) {
            shared = start();
            Sandbox started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::closeQuietly, "sandbox-shutdown"));
        }
        return shared;
    }

    static synchronized void closeShared() {
        if (shared != null) {
            shared.closeQuietly();
            shared = null;
        }
    }

    /** Starts a fresh set of servers; the caller closes them. */
    public static Sandbox start() {
        return start(PostgresBinaries.DEFAULT_MAJOR);
    }

    /** Starts a fresh set of servers with PostgreSQL {@code pgMajor} (15 to 18); the caller closes them. */
    public static Sandbox start(int pgMajor) {
        return start(pgMajor, Kafka.Tuning.TUNED);
    }

    /** Starts a fresh set of servers whose broker has the given transaction settings; the caller closes them. */
    public static Sandbox start(Kafka.Tuning tuning) {
        return start(PostgresBinaries.DEFAULT_MAJOR, tuning);
    }

    private static Sandbox start(int pgMajor, Kafka.Tuning tuning) {
        long t0 = System.nanoTime();
        Postgres pg = null;
        Kafka kafka = null;
        try {
            pg = Postgres.start(pgMajor);
            kafka = Kafka.start(tuning);
            ZooKeeper zk = ZooKeeper.start();
            log.info("sandbox up in {} ms: postgres {} kafka {} ({} transaction settings) zookeeper {}",
                    (System.nanoTime() - t0) / 1_000_000, pg.jdbcUrl(), kafka.bootstrapServers(), tuning.name().toLowerCase(java.util.Locale.ROOT),
                    zk.connectString());
            return new Sandbox(pg, kafka, zk);
        } catch (Exception e) {
            if (kafka != null) {
                kafka.close();
            }
            if (pg != null) {
                try {
                    pg.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new IllegalStateException("sandbox failed to start: " + e.getMessage(), e);
        }
    }

    public Postgres postgres() {
        return postgres;
    }

    public Kafka kafka() {
        return kafka;
    }

    public ZooKeeper zookeeper() {
        return zookeeper;
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (AutoCloseable c : new AutoCloseable[] {zookeeper, kafka, postgres}) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private synchronized void closeQuietly() {
        try {
            close();
        } catch (Exception e) {
            log.warn("sandbox did not stop cleanly: {}", e.toString());
        }
    }
}
