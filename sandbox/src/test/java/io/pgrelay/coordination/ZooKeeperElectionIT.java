package io.pgrelay.coordination;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.apache.curator.test.KillSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SandboxExtension.class)
class ZooKeeperElectionIT {

    private static final Duration SESSION = Duration.ofSeconds(3);

    private final io.pgrelay.sandbox.server.ZooKeeper zk = Sandbox.shared().zookeeper();
    private TestCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private TestCluster startZk(String name, int n) throws Exception {
        return new TestCluster(name).start(n, b -> b.zookeeper(zk.connectString()).sessionTimeout(SESSION));
    }

    @Test
    void oneAgentLeadsAndTheRegistryListsEveryMemberWithItsRole() throws Exception {
        cluster = startZk("zkrace", 3);
        int leader = cluster.awaitLeader(Duration.ofSeconds(10));
        Thread.sleep(1_000);
        assertThat(cluster.countLeaders()).isEqualTo(1);
        List<Member> members = MemberRegistry.read(zk.connectString(), cluster.cluster);
        assertThat(members).extracting(Member::id).containsExactly("agent-1", "agent-2", "agent-3");
        assertThat(members).filteredOn(m -> m.role() == Role.LEADER).extracting(Member::id)
                .containsExactly("agent-" + (leader + 1));
        assertThat(members).filteredOn(m -> m.role() == Role.STANDBY).hasSize(2);
        for (LeaderElection e : cluster.elections) {
            assertThat(e.leader()).contains("agent-" + (leader + 1));
        }
    }

    @Test
    void aPartitionedLeaderStopsBeforeItsSessionExpiresSoNeverTwoLeadersAndAnotherTakesOver() throws Exception {
        List<ZkProxy> proxies = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                proxies.add(new ZkProxy(zk.connectString()));
            }
            cluster = new TestCluster("zkpartition").start(3, (i, b) ->
                    b.zookeeper(proxies.get(i).connectString()).sessionTimeout(SESSION));
            for (int round = 0; round < 2; round++) {
                int leader = cluster.awaitLeader(Duration.ofSeconds(10));
                cluster.awaitStreamingAfter(leader, 0);
                long epoch = cluster.elections.get(leader).epoch();
                long t0 = System.nanoTime();
                proxies.get(leader).cut();
                int next = cluster.awaitLeaderOtherThan(leader, SESSION.multipliedBy(3));
                long tookMs = cluster.awaitStreamingAfter(next, t0);
                long stoppedMs = (cluster.leaders.get(leader).lastCommitNanos - t0) / 1_000_000;
                System.out.printf("agent-%d cut off from zookeeper: it stopped after %d ms; agent-%d streams after %d ms"
                        + " (session timeout %d ms)%n", leader + 1, stoppedMs, next + 1, tookMs, SESSION.toMillis());
                assertThat(stoppedMs).isLessThan(tookMs);
                assertThat(cluster.elections.get(next).epoch()).isGreaterThan(epoch);
                proxies.get(leader).heal();
            }
            assertThat(cluster.board.maxInLead.get()).as("agents inside lead() at once").isEqualTo(1);
            assertThat(cluster.board.epochs).isSorted().doesNotHaveDuplicates();
        } finally {
            for (ZkProxy p : proxies) {
                p.close();
            }
        }
    }

    /**
     * Curator's KillSession expires the session on the client at once, without the disconnect
     * that precedes a real expiry: it models a leader process that stalled (GC, VM pause) past its
     * session timeout. ZooKeeper cannot keep two such leaders apart, only fencing can: the new
     * leader evicts the stale walsender, the old one's stream dies, and the epoch grew.
     */
    @Test
    void aLeaderWhoseSessionIsKilledIsFencedByTheSlotAndAGreaterEpoch() throws Exception {
        cluster = startZk("zkexpire", 3);
        for (int round = 0; round < 2; round++) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(10));
            cluster.awaitStreamingAfter(leader, 0);
            long epoch = cluster.elections.get(leader).epoch();
            long t0 = System.nanoTime();
            KillSession.kill(((ZooKeeperElection) cluster.elections.get(leader)).client().getZookeeperClient().getZooKeeper());
            int next = cluster.awaitLeaderOtherThan(leader, SESSION.multipliedBy(3));
            long tookMs = cluster.awaitStreamingAfter(next, t0);
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (cluster.leaders.get(leader).lastCommitNanos - t0 < 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            long stoppedMs = (cluster.leaders.get(leader).lastCommitNanos - t0) / 1_000_000;
            System.out.printf("zookeeper session of agent-%d killed: it stopped after %d ms; agent-%d streams after %d ms%n",
                    leader + 1, stoppedMs, next + 1, tookMs);
            assertThat(stoppedMs).isBetween(0L, 2_000L);
            assertThat(cluster.elections.get(next).epoch()).isGreaterThan(epoch);
        }
        System.out.printf("session kill: at most %d agents inside lead() at once, %d streaming%n",
                cluster.board.maxInLead.get(), cluster.board.maxLeading.get());
        assertThat(cluster.board.epochs).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void aZooKeeperRestartNeverYieldsTwoLeaders() throws Exception {
        cluster = startZk("zkrestart", 3);
        int leader = cluster.awaitLeader(Duration.ofSeconds(10));
        zk.stop();
        try {
            long t0 = System.nanoTime();
            while (cluster.countLeaders() > 0 && System.nanoTime() - t0 < SESSION.toNanos()) {
                Thread.sleep(5);
            }
            System.out.printf("zookeeper stopped; agent-%d revoked its term after %d ms%n",
                    leader + 1, (System.nanoTime() - t0) / 1_000_000);
            assertThat(cluster.countLeaders()).isZero();
            Thread.sleep(SESSION.toMillis() + 1_000);   // past the session timeout: LOST
            assertThat(cluster.countLeaders()).isZero();
        } finally {
            zk.restart();
        }
        long t1 = System.nanoTime();
        int next = cluster.awaitLeader(SESSION.multipliedBy(4));
        System.out.printf("zookeeper restarted; agent-%d leads after %d ms%n", next + 1, (System.nanoTime() - t1) / 1_000_000);
        Thread.sleep(1_000);
        assertThat(cluster.countLeaders()).isEqualTo(1);
        assertThat(cluster.board.maxInLead.get()).as("agents inside lead() at once").isEqualTo(1);
        assertThat(cluster.board.epochs).isSorted().doesNotHaveDuplicates();
    }

    private int locksTaken(int i) {
        return ((ZooKeeperElection) cluster.elections.get(i)).locksTaken.get();
    }

    @Test
    void handoverToANamedMemberMovesTheLockToIt() throws Exception {
        cluster = startZk("zkhandover", 3);
        for (int round = 0; round < 3; round++) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(10));
            Thread.sleep(300);
            // the target last in the lock's queue, so another agent stands between it and the leader
            List<String> queue = ((ZooKeeperElection) cluster.elections.get(leader)).queue();
            assertThat(queue).hasSize(3).startsWith("agent-" + (leader + 1));
            int bystander = Integer.parseInt(queue.get(1).substring("agent-".length())) - 1;
            int target = Integer.parseInt(queue.get(2).substring("agent-".length())) - 1;
            int bystanderLocks = locksTaken(bystander);
            int hints = cluster.leaders.get(target).handoverHints.get();
            cluster.elections.get(leader).handover(Optional.of("agent-" + (target + 1)));
            int next = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(5));
            long gapMs = cluster.awaitStreamingAfter(next, cluster.leaders.get(leader).lastCommitNanos);
            System.out.printf("zookeeper handover agent-%d -> agent-%d: gap %d ms%n", leader + 1, target + 1, gapMs);
            assertThat(next).isEqualTo(target);
            assertThat(gapMs).isLessThan(300);
            assertThat(cluster.leaders.get(target).handoverHints.get()).as("hints to the target").isGreaterThan(hints);
            // the agent between leader and target in the lock's queue stepped out of the way
            assertThat(locksTaken(bystander)).as("locks taken by agent-" + (bystander + 1)).isEqualTo(bystanderLocks);
        }
        assertThat(cluster.board.maxInLead.get()).as("agents inside lead() at once").isEqualTo(1);
    }
}
