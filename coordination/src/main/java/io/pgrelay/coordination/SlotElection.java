package io.pgrelay.coordination;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
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
                Thread.sleep(pause.toMillis());
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
        boolean heldBack = inLocalHoldBack() || (row.handoverPending() && row.handoverTo() != null && !target);
        Duration pause = target ? config.handoverPoll() : config.pollInterval();
        HangDetector.SlotObservation seen = SlotQueries.observe(c, config.slot());
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
            int pid = seen.activePid();
            SlotQueries.terminate(c, config.slot(), pid, "agent " + config.agentId() + " saw no standby status update ("
                    + "reply_time " + seen.replyMarker() + ") for " + detector.silentFor(now).toMillis()
                    + " ms, hangTimeout " + config.hangTimeout().toMillis() + " ms");
            detector.forget();
            return config.handoverPoll();
        }
        if (verdict == HangDetector.Verdict.FREE) {
            boolean led = runTerm(LeaderTerm.NO_EPOCH);
            return led ? Duration.ZERO.plusMillis(1) : pause;
        }
        return pause;
    }

    @Override
    long assignEpoch(LeaderTerm t) throws SQLException {
        try (Connection c = config.postgres().open()) {
            long epoch = ClusterTable.bumpEpoch(c, config.cluster(), config.agentId());
            knownEpoch = Math.max(knownEpoch, epoch);
            return epoch;
        }
    }

    @Override
    void recordHandover(Optional<String> to, Duration window) throws SQLException {
        try (Connection c = config.postgres().open()) {
            ClusterTable.recordHandover(c, config.cluster(), to, window);
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
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            connection = null;
        }
    }
}
