package io.pgrelay.coordination;

import io.pgrelay.sandbox.server.Postgres;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test {@link Leader} that really holds the slot: it opens a pgjdbc replication stream, reads it
 * while the term is valid, and records when it streamed. {@link #hang} makes it stop reading and
 * replying while keeping the connection, as a stuck agent would.
 */
final class StreamingLeader implements Leader {

    /** Shared by every leader of one test. */
    static final class Scoreboard {
        /** Agents inside {@code lead} (ZooKeeper mode: holding the lock), and the most ever at once. */
        final AtomicInteger inLead = new AtomicInteger();
        final AtomicInteger maxInLead = new AtomicInteger();
        /** Agents streaming from the slot (after slotAcquired), and the most ever at once. */
        final AtomicInteger leading = new AtomicInteger();
        final AtomicInteger maxLeading = new AtomicInteger();
        final List<Long> epochs = new CopyOnWriteArrayList<>();
    }

    final String id;
    private final Postgres postgres;
    private final String slot;
    private final String publication;
    private final Scoreboard board;
    /** ZooKeeper mode: the lock decides, so a busy slot means a stale walsender to evict. */
    private final boolean lockMode;
    volatile boolean hang;
    volatile boolean ready = true;
    volatile long streamingSinceNanos;
    volatile boolean streaming;
    volatile long lastCommitNanos;
    final AtomicInteger terms = new AtomicInteger();
    /** Calls of {@link #handoverComing}: a handover named this agent. */
    final AtomicInteger handoverHints = new AtomicInteger();

    StreamingLeader(String id, Postgres postgres, String slot, String publication, Scoreboard board, boolean lockMode) {
        this.id = id;
        this.postgres = postgres;
        this.slot = slot;
        this.publication = publication;
        this.board = board;
        this.lockMode = lockMode;
    }

    @Override
    public void handoverComing(java.time.Duration window) {
        handoverHints.incrementAndGet();
    }

    @Override
    public void lead(Term term) throws Exception {
        board.maxInLead.accumulateAndGet(board.inLead.incrementAndGet(), Math::max);
        try (Connection c = replicationConnection()) {
            PGReplicationStream stream = start(c, term);
            long epoch = term.slotAcquired();
            board.epochs.add(epoch);
            board.maxLeading.accumulateAndGet(board.leading.incrementAndGet(), Math::max);
            streamingSinceNanos = System.nanoTime();
            streaming = true;
            terms.incrementAndGet();
            try {
                while (term.isValid()) {
                    if (!hang) {
                        stream.readPending();
                    }
                    Thread.sleep(20);
                }
            } finally {
                lastCommitNanos = System.nanoTime();   // the agent's last Kafka commit would be here
                streaming = false;
                board.leading.decrementAndGet();
                if (!hang) {
                    stream.close();
                }
            }
        } finally {
            board.inLead.decrementAndGet();
        }
    }

    @Override
    public boolean readyToLead() {
        return ready;
    }

    private PGReplicationStream start(Connection c, Term term) throws Exception {
        while (true) {
            try {
                return c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                        .withSlotName(slot)
                        .withSlotOption("proto_version", "1")
                        .withSlotOption("publication_names", publication)
                        .withStatusInterval(500, TimeUnit.MILLISECONDS)
                        .start();
            } catch (SQLException e) {
                if (!SlotBusyException.isSlotBusy(e)) {
                    throw e;
                }
                if (!lockMode) {
                    throw new SlotBusyException(slot, e);
                }
                term.evictSlotHolder();
                Thread.sleep(50);
                if (!term.isValid()) {
                    throw new SlotBusyException(slot, e);
                }
            }
        }
    }

    private Connection replicationConnection() throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, postgres.superuser());
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        return DriverManager.getConnection(postgres.jdbcUrl(), p);
    }
}
