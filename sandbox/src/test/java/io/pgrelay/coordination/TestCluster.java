package io.pgrelay.coordination;

import io.pgrelay.sandbox.server.Postgres;
import io.pgrelay.sandbox.Sandbox;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/** N elections of one cluster against the sandbox's servers, each with its own slot and publication. */
final class TestCluster implements AutoCloseable {

    private static final AtomicInteger SEQ = new AtomicInteger();

    final Postgres postgres = Sandbox.shared().postgres();
    final String cluster;
    final String slot;
    final String publication;
    final StreamingLeader.Scoreboard board = new StreamingLeader.Scoreboard();
    final List<LeaderElection> elections = new ArrayList<>();
    final List<StreamingLeader> leaders = new ArrayList<>();

    /** Applied to each test leader before its election starts. */
    private java.util.function.Consumer<StreamingLeader> leaderSetup = l -> { };

    TestCluster(String name) {
        cluster = name + "_" + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet();
        slot = "slot_" + cluster.toLowerCase();
        publication = "pub_" + cluster.toLowerCase();
        try (var c = postgres.connect()) {
            ClusterTable.ensureSchema(c);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        postgres.execute("CREATE PUBLICATION " + publication + " FOR ALL TABLES",
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    }

    /**
     * Each agent's admin address is a socket that really listens (nothing answers on it): in
     * ZooKeeper mode a standby takes a leader whose admin port refuses connections, and whose slot
     * has no walsender, for dead, and removes its lock.
     */
    private final List<java.net.ServerSocket> adminPorts = new ArrayList<>();

    ElectionConfig.Builder config(String agentId) {
        try {
            java.net.ServerSocket admin = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            adminPorts.add(admin);
            return ElectionConfig.builder(cluster, agentId).slot(slot).postgres(postgres::connect)
                    .http("127.0.0.1:" + admin.getLocalPort());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    TestCluster leaders(java.util.function.Consumer<StreamingLeader> setup) {
        this.leaderSetup = setup;
        return this;
    }

    /** Starts {@code n} agents named agent-1 … agent-n. */
    TestCluster start(int n, UnaryOperator<ElectionConfig.Builder> tune) throws Exception {
        return start(n, (i, b) -> tune.apply(b));
    }

    /** Starts {@code n} agents; {@code tune} gets the agent's index (0-based) too. */
    TestCluster start(int n, BiFunction<Integer, ElectionConfig.Builder, ElectionConfig.Builder> tune) throws Exception {
        boolean lockMode = tune.apply(0, config("x")).build().mode() == ElectionConfig.Mode.ZOOKEEPER;
        for (int i = 1; i <= n; i++) {
            String id = "agent-" + i;
            StreamingLeader leader = new StreamingLeader(id, postgres, slot, publication, board, lockMode);
            leaderSetup.accept(leader);
            LeaderElection e = LeaderElection.create(tune.apply(i - 1, config(id)).build(), leader);
            leaders.add(leader);
            elections.add(e);
            e.start();
        }
        return this;
    }

    /** Waits until exactly one agent holds leadership and returns its index. */
    int awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Integer> one = currentLeader();
            if (one.isPresent()) {
                return one.get();
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no single leader within " + timeout.toMillis() + " ms in cluster " + cluster);
    }

    /** Waits until an agent other than {@code not} leads; returns its index. */
    int awaitLeaderOtherThan(int not, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Integer> one = currentLeader();
            if (one.isPresent() && one.get() != not) {
                return one.get();
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no leader other than agent-" + (not + 1) + " within " + timeout.toMillis() + " ms");
    }

    /** Waits until agent {@code i} streams in a term that started after {@code t0Nanos}; returns the delay in ms. */
    long awaitStreamingAfter(int i, long t0Nanos) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (leaders.get(i).streamingSinceNanos - t0Nanos < 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("agent-" + (i + 1) + " leads but did not start streaming");
            }
            Thread.sleep(1);
        }
        return (leaders.get(i).streamingSinceNanos - t0Nanos) / 1_000_000;
    }

    /** Waits until more than {@code terms} terms have held the slot. */
    void awaitTermsBeyond(int terms, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (board.epochs.size() <= terms) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no new term within " + timeout.toMillis() + " ms");
            }
            Thread.sleep(5);
        }
    }

    /** Waits until agent {@code i} neither holds leadership nor streams. */
    void awaitNotLeading(int i, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (elections.get(i).hasLeadership() || leaders.get(i).streaming) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("agent-" + (i + 1) + " still leads " + timeout.toMillis() + " ms later");
            }
            Thread.sleep(5);
        }
    }

    Optional<Integer> currentLeader() {
        List<Integer> leading = new ArrayList<>();
        for (int i = 0; i < elections.size(); i++) {
            if (elections.get(i).hasLeadership()) {
                leading.add(i);
            }
        }
        return leading.size() == 1 ? Optional.of(leading.get(0)) : Optional.empty();
    }

    long countLeaders() {
        return elections.stream().filter(LeaderElection::hasLeadership).count();
    }

    Integer walsenderPid() throws Exception {
        try (var c = postgres.connect()) {
            return SlotQueries.holderPid(c, slot);
        }
    }

    @Override
    public void close() {
        elections.forEach(LeaderElection::close);
        for (java.net.ServerSocket admin : adminPorts) {
            try {
                admin.close();
            } catch (java.io.IOException e) {
                // closing: nothing to do
            }
        }
        postgres.execute(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND active",
                "SELECT pg_sleep(0.2)",
                "SELECT pg_drop_replication_slot('" + slot + "')",
                "DROP PUBLICATION IF EXISTS " + publication,
                "DELETE FROM pgrelay.clusters WHERE cluster = '" + cluster + "'",
                "DELETE FROM pgrelay.members WHERE cluster = '" + cluster + "'");
    }
}
