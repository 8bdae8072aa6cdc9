package io.pgrelay.it;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.ZooKeeperEnsemble;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
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
 * ZooKeeper mode against a three-server ensemble whose servers are processes of their own, under a
 * steady load: SIGKILL the ensemble's leader (a quorum remains), then two servers (no quorum), then
 * bring them back. Nothing lost or duplicated for a read_committed consumer, epochs never go back,
 * and without a quorum nothing is committed at all.
 */
@Tag("drill")   // a long drill: ./mvnw verify -Pdrills
@ExtendWith(SandboxExtension.class)
class ZooKeeperEnsembleIT {

    private static final int SESSION_MS = 2_000;
    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void losingTheEnsemblesLeaderThenItsQuorumLosesNothingAndCommitsNothingWithoutAQuorum() throws Exception {
        String name = ItSupport.uniqueCluster("zkens");
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AtomicBoolean stop = new AtomicBoolean();
        AgentConfigs configs = null;
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(3, 200)) {
            configs = new AgentConfigs(sandbox, name).mode("zookeeper").zookeeperConnect(zk.connectString())
                    .zookeeperSessionTimeout(SESSION_MS + "ms").tables(table);
            try (Cluster cluster = Cluster.start(configs, 3);
                 LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), name + "." + table)) {
                CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 20, 2, 1_000, stop));
                Cluster.Member leader = cluster.awaitLeader(30_000);
                long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
                ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);

                // 1. The ensemble's leader dies; two servers remain, a quorum.
                ZooKeeperEnsemble.Node zkLeader = zk.awaitLeader(10_000);
                int before = consumer.size();
                long t0 = System.nanoTime();
                zkLeader.kill();
                ZooKeeperEnsemble.Node next = zk.awaitLeader(30_000);
                // 500 more rows: half a second of load past whatever was in flight at the kill
                ItSupport.await("records after " + zkLeader + " died", Duration.ofSeconds(30), () -> consumer.size() > before + 500);
                long streamingAgainMs = (System.nanoTime() - t0) / 1_000_000;
                long termsAfterLeaderLoss = consumer.maxEpoch() - epoch;
                System.out.printf("ZooKeeperEnsembleIT: SIGKILL %s (ZooKeeper leader) -> %s leads the ensemble; pgrelay"
                        + " 500 more rows read %d ms after the kill; new pgrelay terms: %d%n", zkLeader, next, streamingAgainMs, termsAfterLeaderLoss);
                assertThat(termsAfterLeaderLoss).as("pgrelay terms after the ZooKeeper leader's loss (none, or one clean takeover)")
                        .isLessThanOrEqualTo(1);
                zkLeader.start();
                zk.awaitLeader(30_000);
                ItSupport.await("a pgrelay leader", Duration.ofSeconds(30), () -> cluster.members().stream()
                        .anyMatch(m -> AgentHttp.status(m.url()).map(j -> "leader".equals(j.path("role").asText())).orElse(false)));

                // 2. Two servers die: no quorum. The pgrelay leader must stop committing at once.
                List<ZooKeeperEnsemble.Node> lost = zk.nodes().subList(0, 2);
                long lossMillis = System.currentTimeMillis();
                for (ZooKeeperEnsemble.Node n : lost) {
                    n.kill();
                }
                Thread.sleep(SESSION_MS + 1_000);   // the client notices a lost server within 2/3 of the session
                int settled = consumer.size();
                Thread.sleep(4_000);
                List<ConsumerRecord<String, String>> all = consumer.records();
                long lateSends = all.stream().filter(r -> r.timestamp() > lossMillis + SESSION_MS).count();
                System.out.printf("ZooKeeperEnsembleIT: quorum lost; records committed in the 4 s after the leader stopped: %d,"
                        + " records sent more than %d ms after the loss: %d%n", consumer.size() - settled, SESSION_MS, lateSends);
                assertThat(consumer.size()).as("records committed without a ZooKeeper quorum").isEqualTo(settled);
                assertThat(lateSends).as("records sent more than the session timeout after the quorum was lost").isZero();

                // 3. The quorum comes back: streaming resumes.
                long epochBefore = consumer.maxEpoch();
                long t1 = System.nanoTime();
                for (ZooKeeperEnsemble.Node n : lost) {
                    n.start();
                }
                ItSupport.await("records of a new term once the quorum is back", Duration.ofSeconds(60),
                        () -> consumer.firstArrivalAfterEpoch(epochBefore).isPresent());
                System.out.printf("ZooKeeperEnsembleIT: quorum restarted -> first record of the next term %d ms later%n",
                        (consumer.firstArrivalAfterEpoch(epochBefore).getAsLong() - t1) / 1_000_000);

                Thread.sleep(2_000);
                stop.set(true);
                writes.get();
                Verdict verdict;
                try (Connection c = connect()) {
                    verdict = consumer.awaitVerdict(c, table);
                }
                List<ConsumerRecord<String, String>> records = consumer.records();
                FailoverIT.assertEpochsNeverGoBack(records);
                System.out.printf("ZooKeeperEnsembleIT: %s%n", verdict);
                assertThat(verdict.clean()).as(verdict.toString()).isTrue();
            }
        } finally {
            stop.set(true);
            if (configs != null) {
                ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            }
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
