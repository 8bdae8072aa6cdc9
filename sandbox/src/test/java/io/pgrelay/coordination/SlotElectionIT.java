package io.pgrelay.coordination;

import io.pgrelay.sandbox.SandboxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(SandboxExtension.class)
class SlotElectionIT {

    private TestCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void threeAgentsRaceForTheSlotAndExactlyOneLeads() throws Exception {
        cluster = new TestCluster("race").start(3, b -> b);
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        Thread.sleep(2_000);
        assertThat(cluster.countLeaders()).isEqualTo(1);
        assertThat(cluster.currentLeader()).contains(leader);
        assertThat(cluster.board.maxLeading.get()).isEqualTo(1);
        assertThat(cluster.board.epochs).hasSize(1);

        String leaderId = "agent-" + (leader + 1);
        for (LeaderElection e : cluster.elections) {
            assertThat(e.leader()).contains(leaderId);
            assertThat(e.epoch()).isEqualTo(cluster.board.epochs.get(0));
        }
        List<Member> members = MemberRegistry.read(cluster.postgres::connect, cluster.cluster,
                MemberRegistry.liveWithin(Duration.ofMillis(500)));
        assertThat(members).extracting(Member::id).containsExactly("agent-1", "agent-2", "agent-3");
        assertThat(members).filteredOn(m -> m.role() == Role.LEADER).extracting(Member::id).containsExactly(leaderId);
        assertThat(members).filteredOn(m -> m.role() == Role.STANDBY).hasSize(2);
        assertThat(members).extracting(Member::http).allMatch(h -> h.startsWith("127.0.0.1:"));
    }

    @Test
    void killingTheLeadersWalsenderHandsTheSlotToAnotherAgentQuicklyWithAGreaterEpoch() throws Exception {
        cluster = new TestCluster("kill").start(3, b -> b);
        int first = cluster.awaitLeader(Duration.ofSeconds(5));
        for (int round = 0; round < 3; round++) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            Integer pid = cluster.walsenderPid();
            long t0 = System.nanoTime();
            cluster.postgres.execute("SELECT pg_terminate_backend(" + pid + ")");
            int next = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(3));
            long tookMs = cluster.awaitStreamingAfter(next, t0);
            System.out.printf("walsender %d of agent-%d killed; agent-%d streams after %d ms%n", pid, leader + 1, next + 1, tookMs);
            assertThat(tookMs).isLessThan(1_500);
            // The old leader may still believe it streams for a moment after its walsender died (it
            // notices on its next read), so "one leader at a time" is PostgreSQL's one walsender per
            // slot here; what the election must do is revoke the old term promptly.
            assertThat(cluster.walsenderPid()).isNotEqualTo(pid);
            cluster.awaitNotLeading(leader, Duration.ofSeconds(1));
        }
        assertThat(first).isBetween(0, 2);
        assertThat(cluster.board.epochs).hasSize(4).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void aStandbyNotReadyToLeadLetsAReadyOneTakeTheFreedSlot() throws Exception {
        // agent-3 is never ready; its pollInterval (2 s) is how long it gives the others. It starts
        // last, as a restarted agent joins standbys already registered (an agent that sees no
        // other live member does not wait, so one started first could rightly take the slot).
        cluster = new TestCluster("ready").leaders(l -> l.ready = !l.id.equals("agent-3"))
                .start(3, (i, b) -> i == 2 ? b.pollInterval(Duration.ofSeconds(2)) : b);
        for (int round = 0; round < 4; round++) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            assertThat(leader).as("round %d", round).isNotEqualTo(2);
            int terms = cluster.board.epochs.size();
            cluster.postgres.execute("SELECT pg_terminate_backend(" + cluster.walsenderPid() + ")");
            cluster.awaitTermsBeyond(terms, Duration.ofSeconds(3));
        }
        assertThat(cluster.leaders.get(2).terms.get()).isZero();
        // with no ready standby left, the unready one still takes over
        cluster.elections.get(0).close();
        cluster.elections.get(1).close();
        assertThat(cluster.awaitLeader(Duration.ofSeconds(8))).isEqualTo(2);
    }

    @Test
    void aLeaderThatStopsReplyingIsEvictedAfterHangTimeoutAndAnotherTakesOver() throws Exception {
        Duration hangTimeout = Duration.ofSeconds(3);
        cluster = new TestCluster("hang").start(3, b -> b.hangTimeout(hangTimeout));
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        Thread.sleep(1_500);   // live leader: the standbys must not evict it
        assertThat(cluster.currentLeader()).contains(leader);
        Integer hungPid = cluster.walsenderPid();

        long t0 = System.nanoTime();
        cluster.leaders.get(leader).hang = true;
        int next = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(10));
        long tookMs = cluster.awaitStreamingAfter(next, t0);
        System.out.printf("agent-%d hung (walsender %d); agent-%d streams after %d ms (hangTimeout %d ms)%n",
                leader + 1, hungPid, next + 1, tookMs, hangTimeout.toMillis());
        assertThat(tookMs).isGreaterThanOrEqualTo(hangTimeout.toMillis() - 1_000).isLessThan(hangTimeout.toMillis() + 2_500);
        assertThat(cluster.walsenderPid()).isNotEqualTo(hungPid);
        Thread.sleep(1_000);   // the evicted leader's own slot watch revokes its term
        assertThat(cluster.elections.get(leader).hasLeadership()).isFalse();
        assertThat(cluster.board.epochs).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void handoverToANamedMemberMovesLeadershipToIt() throws Exception {
        cluster = new TestCluster("handover").start(3, b -> b);
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        Thread.sleep(1_000);   // every member has published
        for (int round = 0; round < 3; round++) {
            leader = cluster.awaitLeader(Duration.ofSeconds(5));
            int target = (leader + 1) % 3;
            long epochBefore = cluster.elections.get(leader).epoch();
            cluster.elections.get(leader).handover(Optional.of("agent-" + (target + 1)));
            int next = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(3));
            long gapMs = cluster.awaitStreamingAfter(next, cluster.leaders.get(leader).lastCommitNanos);
            System.out.printf("handover agent-%d -> agent-%d: gap %d ms between last commit and streaming%n",
                    leader + 1, target + 1, gapMs);
            assertThat(next).isEqualTo(target);
            assertThat(cluster.elections.get(next).epoch()).isGreaterThan(epochBefore);
            assertThat(gapMs).isLessThan(300);
        }
        assertThat(cluster.board.maxLeading.get()).isEqualTo(1);
    }

    @Test
    void handoverToAnUnknownOrSelfOrFromAStandbyIsRefused() throws Exception {
        cluster = new TestCluster("refuse").start(2, b -> b);
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        LeaderElection l = cluster.elections.get(leader);
        assertThatThrownBy(() -> l.handover(Optional.of("agent-9")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("agent-9").hasMessageContaining("not a live member");
        assertThatThrownBy(() -> l.handover(Optional.of("agent-" + (leader + 1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("this agent");
        assertThatThrownBy(() -> cluster.elections.get(1 - leader).handover(Optional.empty()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not the leader");
        assertThat(cluster.currentLeader()).contains(leader);
    }

    @Test
    void handoverToAnyStandbyLetsTheOtherAgentLead() throws Exception {
        cluster = new TestCluster("any").start(2, b -> b);
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        cluster.elections.get(leader).handover(Optional.empty());
        int next = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(3));
        assertThat(next).isEqualTo(1 - leader);
    }
}
