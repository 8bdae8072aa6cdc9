package io.pgrelay.it;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ZooKeeper mode with a session timeout far longer than a takeover may take (20 s): a dead leader
 * (SIGKILL: its walsender is gone and its admin port refuses connections) is replaced without
 * waiting for its session to expire, and a leader that is only stopped (SIGSTOP: it keeps its
 * walsender and its listening socket) is never replaced that way.
 */
@ExtendWith(SandboxExtension.class)
class ZooKeeperTakeoverIT {

    private static final String SESSION = "20s";
    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void aKilledLeaderIsReplacedLongBeforeItsSessionExpiresAndNothingIsLostOrDuplicated() throws Exception {
        String name = ItSupport.uniqueCluster("zkdead");
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AgentConfigs configs = new AgentConfigs(sandbox, name).mode("zookeeper").zookeeperSessionTimeout(SESSION).tables(table);
        AtomicBoolean stop = new AtomicBoolean();
        try (Cluster cluster = Cluster.start(configs, 3);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), name + "." + table)) {
            CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 50, 5, 2_000, stop));
            for (int kill = 0; kill < 1; kill++) {
                Cluster.Member leader = cluster.awaitLeader(30_000);
                ItSupport.await("every agent ready", Duration.ofSeconds(30),
                        () -> cluster.members().stream().allMatch(FailoverIT::ready));
                long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
                ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
                long t0 = System.nanoTime();
                long killedAt = System.currentTimeMillis();
                leader.process().kill();
                // without the dead-leader check this takes the whole 20 s session and more
                ItSupport.await("a new leader's first record after killing " + leader.id(), Duration.ofSeconds(10),
                        () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
                long seen = (consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000;
                long sent = consumer.firstTimestampAfterEpoch(epoch).getAsLong() - killedAt;
                System.out.printf("ZooKeeperTakeoverIT: SIGKILL %s (session %s) -> new leader's first record sent %d ms,"
                        + " seen by a read_committed consumer %d ms%n", leader.id(), SESSION, sent, seen);
                boolean logged = cluster.members().stream().filter(m -> m != leader)
                        .anyMatch(m -> log(m).contains("leader " + leader.id() + " of cluster " + name + " is gone"));
                assertThat(logged).as("a standby logged why it removed the lock of " + leader.id()).isTrue();
                leader.process().start();
            }
            stop.set(true);
            writes.get();
            Verdict verdict;
            try (Connection c = connect()) {
                verdict = consumer.awaitVerdict(c, table);
            }
            List<ConsumerRecord<String, String>> records = consumer.records();
            FailoverIT.assertEpochsNeverGoBack(records);
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    @Test
    void aStoppedLeaderThatStillHoldsItsWalsenderIsNotReplaced() throws Exception {
        String name = ItSupport.uniqueCluster("zkslow");
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AgentConfigs configs = new AgentConfigs(sandbox, name).mode("zookeeper").zookeeperSessionTimeout(SESSION).tables(table);
        AtomicBoolean stop = new AtomicBoolean();
        try (Cluster cluster = Cluster.start(configs, 3);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), name + "." + table)) {
            CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 50, 5, 500, stop));
            Cluster.Member leader = cluster.awaitLeader(30_000);
            long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
            ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
            leader.process().pause();
            try {
                // 8 poll intervals of every standby; under the leader's own stall limit (hangTimeout, 5 s),
                // past which a resumed leader abandons its term by itself
                Thread.sleep(4_000);
                for (Cluster.Member m : cluster.members()) {
                    if (m != leader) {
                        assertThat(AgentHttp.status(m.url()).orElseThrow().path("role").asText())
                                .as(m.id() + "'s role while " + leader.id() + " is stopped").isEqualTo("standby");
                    }
                }
                assertThat(consumer.firstArrivalAfterEpoch(epoch)).as("a record of a later epoch while " + leader.id() + " is stopped").isEmpty();
            } finally {
                leader.process().resume();
            }
            // Once resumed, the leader's own watchdog may still end its term (its reader made no progress
            // for hangTimeout when the machine is slow to schedule it again): that is a clean handover of
            // its own, not the dead-leader check. What must never happen is a standby removing its lock.
            Thread.sleep(2_000);
            for (Cluster.Member m : cluster.members()) {
                assertThat(log(m)).as(m.id() + "'s log").doesNotContain("is gone (slot");
            }
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private static String log(Cluster.Member m) {
        try {
            return m.process().log();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
