package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgrelay.coordination.ZooKeeperAuth;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.SaslZooKeeper;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ZooKeeper mode against a ZooKeeper that requires SASL (DIGEST-MD5) of every client
 * ({@link SaslZooKeeper}), with {@code coordination.zookeeper.auth}: the agents elect and fail over
 * as before — the dead-leader check deletes a killed leader's lock node under the ACLs — while
 * another client can neither read, take nor delete the lock.
 */
@ExtendWith(SandboxExtension.class)
class ZooKeeperSaslIT {

    private static final String SESSION = "20s";
    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void agentsWithCredentialsElectAndFailOverWhileOtherClientsCannotTouchTheLock() throws Exception {
        String name = ItSupport.uniqueCluster("zksasl");
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AtomicBoolean stop = new AtomicBoolean();
        try (SaslZooKeeper zk = SaslZooKeeper.start()) {
            AgentConfigs configs = new AgentConfigs(sandbox, name).mode("zookeeper").zookeeperConnect(zk.connectString())
                    .zookeeperSessionTimeout(SESSION).zookeeperAuth(SaslZooKeeper.USER, SaslZooKeeper.PASSWORD).tables(table);
            try (Cluster cluster = Cluster.start(configs, 2);
                 LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), name + "." + table)) {
                CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 50, 5, 2_000, stop));
                Cluster.Member leader;
                try {
                    leader = cluster.awaitLeader(30_000);
                } catch (IllegalStateException e) {
                    for (Cluster.Member m : cluster.members()) {
                        System.out.println("ZooKeeperSaslIT: " + m.id() + "'s log:\n" + m.process().log());
                    }
                    throw e;
                }
                String root = "/pgrelay/" + name;

                try (CuratorFramework owner = client(zk, new ZooKeeperAuth(SaslZooKeeper.USER, SaslZooKeeper.PASSWORD).clientConfig());
                     CuratorFramework other = client(zk, new ZooKeeperAuth(SaslZooKeeper.OTHER_USER, SaslZooKeeper.OTHER_PASSWORD).clientConfig());
                     CuratorFramework anonymous = client(zk, new ZKClientConfig())) {
                    List<String> locks = owner.getChildren().forPath(root + "/leader");
                    assertThat(locks).isNotEmpty();
                    String lock = root + "/leader/" + locks.get(0);
                    assertThat(owner.getACL().forPath(root + "/leader"))
                            .containsExactly(new ACL(Perms.ALL, new Id("sasl", SaslZooKeeper.USER)));
                    assertThat(catchThrowable(() -> other.getChildren().forPath(root + "/leader")))
                            .as("another user reads the lock").isInstanceOf(KeeperException.NoAuthException.class);
                    assertThat(catchThrowable(() -> other.create().forPath(root + "/leader/_c_x-lock-0000000000")))
                            .as("another user takes the lock").isInstanceOf(KeeperException.NoAuthException.class);
                    assertThat(catchThrowable(() -> other.delete().forPath(lock)))
                            .as("another user deletes the lock").isInstanceOf(KeeperException.NoAuthException.class);
                    assertThat(catchThrowable(() -> other.delete().deletingChildrenIfNeeded().forPath(root)))
                            .as("another user deletes the cluster").isInstanceOf(KeeperException.NoAuthException.class);
                    Throwable anon = catchThrowable(() -> anonymous.create().forPath(root + "/leader/_c_y-lock-0000000000"));
                    System.out.println("ZooKeeperSaslIT: unauthenticated client: " + anon);
                    assertThat(anon).as("an unauthenticated client").isInstanceOf(KeeperException.class);
                    assertThat(owner.checkExists().forPath(lock)).as("the lock is still there").isNotNull();
                }

                ItSupport.await("every agent ready", Duration.ofSeconds(30), () -> cluster.members().stream().allMatch(FailoverIT::ready));
                long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
                ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
                long t0 = System.nanoTime();
                leader.process().kill();
                // under the 20 s session only the dead-leader check, deleting the lock node under its ACL, is this quick
                ItSupport.await("a new leader's first record after killing " + leader.id(), Duration.ofSeconds(10),
                        () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
                System.out.printf("ZooKeeperSaslIT: SIGKILL %s -> new leader's first record seen after %d ms%n", leader.id(),
                        (consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000);
                stop.set(true);
                writes.get();
                Verdict verdict;
                try (Connection c = connect()) {
                    verdict = consumer.awaitVerdict(c, table);
                }
                FailoverIT.assertEpochsNeverGoBack(consumer.records());
                assertThat(verdict.clean()).as(verdict.toString()).isTrue();
                for (Cluster.Member m : cluster.members()) {
                    assertThat(m.process().log()).as(m.id() + "'s log").doesNotContain(SaslZooKeeper.PASSWORD);
                }
            } finally {
                stop.set(true);
                ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            }
        }
    }

    @Test
    void anAgentWithoutCredentialsIsToldTheServerWantsThem() throws Exception {
        String name = ItSupport.uniqueCluster("zknoauth");
        try (SaslZooKeeper zk = SaslZooKeeper.start()) {
            AgentConfigs configs = new AgentConfigs(sandbox, name).mode("zookeeper").zookeeperConnect(zk.connectString())
                    .zookeeperSessionTimeout("5s");
            try (AgentProcess agent = AgentProcess.start("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                ItSupport.await("the agent to give up", Duration.ofSeconds(60), () -> !agent.isAlive());
                String said = agent.log().lines().filter(l -> l.contains("member znode not created")).findFirst().orElse(agent.log());
                System.out.println("ZooKeeperSaslIT without credentials: " + said);
                assertThat(said).contains("ERROR", "agent agent-1: member znode not created within 10000 ms (ZooKeeper "
                        + zk.connectString() + "): the server closed the connection ")
                        .endsWith(" times after accepting it; a ZooKeeper that requires authentication (enforce.auth.enabled)"
                        + " closes a client without credentials that way: set coordination.zookeeper.auth");
                assertThat(agent.log()).as("the failure is the last word, not a failure to close")
                        .doesNotContain("Already closed or has not been started");
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, new AgentConfigs(sandbox, name).slot());
        }
    }

    private static CuratorFramework client(SaslZooKeeper zk, ZKClientConfig config) {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(zk.connectString()).sessionTimeoutMs(10_000)
                .connectionTimeoutMs(3_000).retryPolicy(new RetryOneTime(100)).zkClientConfig(config).build();
        c.start();
        return c;
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
