package io.pgrelay.coordination;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * Slot mode: the slot itself is the lock. A thread looks at {@code pg_replication_slots} every
 * poll interval; when the slot is free it runs {@link Leader#lead}, whose {@code START_REPLICATION}
 * either wins the slot or fails with 55006 ({@link SlotBusyException}: another agent won). When
 * the walsender holding the slot stops replying for {@code hangTimeout} (see
 * {@link HangDetector}), standbys terminate it and race. Epoch and handover live in
 * {@code pgrelay.clusters}.
 *
 * <p>Races, honestly: two standbys may both see the slot free and both call {@code lead}; only
 * one {@code START_REPLICATION} succeeds, the other gets 55006. Two standbys may both terminate a
 * hung walsender; terminating twice is harmless because the pid is checked against the slot's
 * {@code active_pid} in the same statement.
 */
final class SlotElection extends LeaderElection {

    private static final Logger log = LoggerFactory.getLogger(SlotElection.class);

    private final Thread thread;
    private final HangDetector detector;
    /** Only the election thread uses it. */
    private Connection connection;
    private boolean warnedMissing;
    /** When this agent first saw the slot free (System.nanoTime()), or null while it is held. */
    private Long freeSince;

    SlotElection(ElectionConfig config, Leader leader) {
        super(config, leader, new PgMemberRegistry(config));
        this.detector = new HangDetector(config.hangTimeout());
        this.thread = daemon(this::loop, "pgrelay-election-" + config.agentId());
    }

    @Override
    void doStart() {
        thread.start();
    }

    @Override
    void doClose() {
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (state.get() == State.STARTED) {
            Duration pause = config.pollInterval();
            try {
                pause = pollOnce();
            } catch (SQLException e) {
                log.warn("agent {}: cannot look at replication slot \"{}\": {}", config.agentId(), config.slot(), e.toString());
                closeConnection();
            }
            try {
                awaitWakeUp(pause);
            } catch (InterruptedException e) {
                if (state.get() != State.STARTED) {
                    break;
                }
            }
        }
        closeConnection();
    }

    /** One look at the slot; returns how long to wait before the next. */
    private Duration pollOnce() throws SQLException {
        Connection c = connection();
        ClusterTable.Row row = ClusterTable.read(c, config.cluster());
        knownEpoch = Math.max(knownEpoch, row.epoch());
        boolean target = row.handoverPending() && config.agentId().equals(row.handoverTo());
        // the named target ignores its own hold-back: it may be the agent that handed over to a third one before
        boolean heldBack = !target && (inLocalHoldBack() || (row.handoverPending() && row.handoverTo() != null));
        Duration pause = target ? config.handoverPoll() : config.pollInterval();
        if (target) {
            leader.handoverComing(config.handoverWindow());
        }
        HangDetector.SlotObservation seen = SlotQueries.observe(c, config.slot(), config.cluster());
        long now = System.nanoTime();
        HangDetector.Verdict verdict = detector.judge(seen, now);
        knownLeader = seen.active() ? Optional.ofNullable(row.leader()) : Optional.empty();
        if (verdict == HangDetector.Verdict.MISSING) {
            if (!warnedMissing) {
                log.warn("agent {}: replication slot \"{}\" does not exist; waiting for it", config.agentId(), config.slot());
                warnedMissing = true;
            }
            return pause;
        }
        warnedMissing = false;
        if (heldBack) {
            return pause;
        }
        if (verdict == HangDetector.Verdict.HUNG) {
            freeSince = null;
            int pid = seen.activePid();
            SlotQueries.terminate(c, config.slot(), pid, "agent " + config.agentId() + " saw neither a standby status update"
                    + " nor a heartbeat from its client for " + detector.silentFor(now).toMillis()
                    + " ms, hangTimeout " + config.hangTimeout().toMillis() + " ms");
            detector.forget();
            return config.handoverPoll();
        }
        if (verdict != HangDetector.Verdict.FREE) {
            freeSince = null;
            return pause;
        }
        boolean firstSight = freeSince == null;
        if (firstSight) {
            freeSince = now;
        }
        if (!target && !leader.readyToLead() && now - freeSince < config.pollInterval().toNanos() && anotherMemberLive()) {
            if (firstSight) {
                log.info("agent {}: slot \"{}\" is free but this agent is not ready to lead yet; a ready standby gets {} ms first",
                        config.agentId(), config.slot(), config.pollInterval().toMillis());
            }
            return config.pollInterval().dividedBy(10);
        }
        freeSince = null;
        runTerm(target);
        // after a term (or a lost race) wait a full interval: a standby that is healthy gets the first
        // try. Wake-ups sent while we led are stale and must not cut that wait short.
        discardNotifications();
        return pause;
    }

    /** Whether the registry shows another live agent (which may be ready to lead); true when unsure. */
    private boolean anotherMemberLive() {
        try {
            return registry.members().stream().anyMatch(m -> !m.id().equals(config.agentId()));
        } catch (Exception e) {
            return true;
        }
    }

    /**
     * Sleeps for {@code pause}, or less when another agent of any cluster sends a notification on
     * channel {@code pgrelay} (handover recorded, a term ended): a standby then looks at the slot
     * at once instead of at its next poll, which is what keeps a handover gap well under a poll
     * interval. NOTIFY is only a hint; polling alone is always correct.
     */
    private void awaitWakeUp(Duration pause) throws InterruptedException {
        long deadline = System.nanoTime() + pause.toNanos();
        while (connection != null) {
            int millis = (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            try {
                PGConnection pg = connection.unwrap(PGConnection.class);
                PGNotification[] notes = pg.getNotifications(millis);
                // a session hears its own NOTIFY too: that one must not wake us
                if (notes != null && Arrays.stream(notes).anyMatch(n -> n.getPID() != pg.getBackendPID())) {
                    return;
                }
            } catch (SQLException e) {
                closeConnection();
                break;
            }
            if (System.nanoTime() - deadline >= 0) {
                return;
            }
        }
        Thread.sleep(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    }

    /** Our walsender is gone or going: let the others look now, before anything else is done. */
    @Override
    void slotReleased() {
        try {
            wakeStandbys(connection());
        } catch (SQLException e) {
            log.debug("agent {}: NOTIFY failed: {}", config.agentId(), e.toString());
        }
    }

    /** Reads and drops the notifications that arrived on our LISTEN connection so far. */
    private void discardNotifications() {
        try {
            Connection c = connection();
            try (Statement s = c.createStatement()) {
                s.execute("SELECT 1");   // a round trip brings in what is pending on the socket
            }
            c.unwrap(PGConnection.class).getNotifications();
        } catch (SQLException e) {
            closeConnection();
        }
    }

    private void wakeStandbys(Connection c) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify('pgrelay', ?)")) {
            ps.setString(1, config.cluster());
            ps.execute();
        } catch (SQLException e) {
            log.debug("agent {}: NOTIFY failed: {}", config.agentId(), e.toString());
        }
    }

    @Override
    long assignEpoch(LeaderTerm t, Connection c) throws SQLException {
        long epoch = ClusterTable.bumpEpoch(c, config.cluster(), config.agentId());
        knownEpoch = Math.max(knownEpoch, epoch);
        return epoch;
    }

    @Override
    void recordHandover(Optional<String> to, Duration window) throws SQLException {
        try (Connection c = config.postgres().open()) {
            ClusterTable.recordHandover(c, config.cluster(), to, window);
            wakeStandbys(c);
        }
    }

    @Override
    void refreshKnown() {
        // the election thread refreshes epoch and leader on every poll while standby
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = config.postgres().open();
            connection.setAutoCommit(true);
            try (Statement s = connection.createStatement()) {
                s.execute("LISTEN pgrelay");
            }
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            try (Statement s = connection.createStatement()) {
                s.execute("UNLISTEN *");   // the source may be a pool: do not hand on our subscription
            } catch (SQLException ignored) {
                // broken: a pool discards it
            }
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            connection = null;
        }
    }
}
