package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.common.tls.TestCa;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.AgentProcess.CommandResult;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.SaslZooKeeper;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ZooKeeper mode against a ZooKeeper with a TLS client port and no plaintext one, requiring SASL
 * of every client ({@link SaslZooKeeper#startTlsOnly()}), with {@code coordination.zookeeper.tls}
 * and {@code auth}: the agents elect and fail over as before, and since the server has no other
 * port, every connection of theirs to it is TLS. A wrong CA, and a client without TLS, are told why
 * they cannot connect.
 */
@ExtendWith(SandboxExtension.class)
class ZooKeeperTlsIT {

    private static final String SESSION = "20s";
    private static final long CHECK_SECONDS = 60;
    private static SaslZooKeeper zk;
    private final Sandbox sandbox = Sandbox.shared();

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = SaslZooKeeper.startTlsOnly();
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        if (zk != null) {
            zk.close();
        }
    }

    @Test
    void agentsOverTlsWithCredentialsElectAndFailOver() throws Exception {
        assertThat(plaintextRuok()).as("the server's only client port answers plaintext").isEmpty();
        String name = ItSupport.uniqueCluster("zktls");
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AtomicBoolean stop = new AtomicBoolean();
        AgentConfigs configs = configs(name, SESSION).zookeeperTls(zk.ca()).tables(table);
        try (Cluster cluster = Cluster.start(configs, 2);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), name + "." + table)) {
            CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 50, 5, 2_000, stop));
            long t = System.nanoTime();
            Cluster.Member leader;
            try {
                leader = cluster.awaitLeader(30_000);
            } catch (IllegalStateException e) {
                for (Cluster.Member m : cluster.members()) {
                    System.out.println("ZooKeeperTlsIT: " + m.id() + "'s log:\n" + m.process().log());
                }
                System.out.println("ZooKeeperTlsIT: ZooKeeper's log:\n" + zk.log());
                throw e;
            }
            System.out.printf("ZooKeeperTlsIT: leader %s elected over TLS after %d ms%n", leader.id(), (System.nanoTime() - t) / 1_000_000);
            try (AgentProcess checker = AgentProcess.prepare("checker", configs.yaml("checker", ItSupport.freePort()))) {
                long c0 = System.nanoTime();
                CommandResult check = checker.runCommand("check", CHECK_SECONDS);
                System.out.printf("ZooKeeperTlsIT: check took %d ms:%n%s%n", (System.nanoTime() - c0) / 1_000_000, check.output());
                assertThat(check.output()).contains("OK    zookeeper: " + zk.connectString() + " reached over TLS as "
                        + SaslZooKeeper.USER + "; cluster " + name + " has 2 member(s)");
            }

            ItSupport.await("every agent ready", Duration.ofSeconds(30), () -> cluster.members().stream().allMatch(FailoverIT::ready));
            long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
            ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
            long t0 = System.nanoTime();
            leader.process().kill();
            ItSupport.await("a new leader's first record after killing " + leader.id(), Duration.ofSeconds(10),
                    () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
            System.out.printf("ZooKeeperTlsIT: SIGKILL %s -> new leader's first record seen after %d ms%n", leader.id(),
                    (consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000);
            stop.set(true);
            writes.get();
            Verdict verdict;
            try (Connection c = connect()) {
                verdict = consumer.awaitVerdict(c, table);
            }
            FailoverIT.assertEpochsNeverGoBack(consumer.records());
            System.out.println("ZooKeeperTlsIT: " + verdict);
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
            for (Cluster.Member m : cluster.members()) {
                assertThat(m.process().log()).as(m.id() + "'s log").doesNotContain(SaslZooKeeper.PASSWORD);
            }
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    @Test
    void aWrongCaIsNamedByCheckAndByTheAgent() throws Exception {
        String name = ItSupport.uniqueCluster("zktlsca");
        try (TestCa wrong = TestCa.create("some-other-ca")) {
            AgentConfigs configs = configs(name, "2s").zookeeperTls(wrong.certificate());
            String expected = "cannot reach ZooKeeper at " + zk.connectString() + " within %d ms: the ZooKeeper server's"
                    + " certificate at " + zk.connectString() + " is not trusted: certificate CN=localhost (issued by"
                    + " CN=pgrelay-zookeeper-ca) is not signed by the CA in " + wrong.certificate() + " (coordination.zookeeper.tls.ca)";
            try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                long c0 = System.nanoTime();
                CommandResult check = agent.runCommand("check", CHECK_SECONDS);
                System.out.printf("ZooKeeperTlsIT wrong CA, check (%d ms):%n%s%n", (System.nanoTime() - c0) / 1_000_000, check.output());
                assertThat(check.exitCode()).isEqualTo(1);
                assertThat(check.output()).contains("FAIL  zookeeper: over TLS as " + SaslZooKeeper.USER + ": "
                        + expected.formatted(5000)).doesNotContain(SaslZooKeeper.PASSWORD);

                long r0 = System.nanoTime();
                agent.start();
                ItSupport.await("the agent to give up", Duration.ofSeconds(60), () -> !agent.isAlive());
                System.out.printf("ZooKeeperTlsIT wrong CA, run exited after %d ms; its log:%n%s%n", (System.nanoTime() - r0) / 1_000_000,
                        agent.log());
                assertThat(agent.log()).contains("agent agent-1: " + expected.formatted(4000))
                        .doesNotContain(SaslZooKeeper.PASSWORD);
            } finally {
                ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            }
        }
    }

    @Test
    void aCertificateForAnotherHostIsRefusedNamingTheNames() throws Exception {
        try (SaslZooKeeper other = SaslZooKeeper.startTlsOnly("zookeeper.example.internal")) {
            AgentConfigs configs = new AgentConfigs(sandbox, ItSupport.uniqueCluster("zkname")).mode("zookeeper")
                    .zookeeperConnect(other.connectString()).zookeeperSessionTimeout("2s")
                    .zookeeperAuth(SaslZooKeeper.USER, SaslZooKeeper.PASSWORD).zookeeperTls(other.ca());
            try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                CommandResult check = agent.runCommand("check", CHECK_SECONDS);
                System.out.printf("ZooKeeperTlsIT certificate for another host, check:%n%s%n", check.output());
                assertThat(check.exitCode()).isEqualTo(1);
                assertThat(check.output()).contains("FAIL  zookeeper: over TLS as " + SaslZooKeeper.USER + ": cannot reach ZooKeeper at "
                        + other.connectString() + " within 5000 ms: the ZooKeeper server's certificate at " + other.connectString()
                        + " is not trusted: certificate CN=zookeeper.example.internal (issued by CN=pgrelay-zookeeper-ca) is for"
                        + " [zookeeper.example.internal], not 127.0.0.1 (the host name is checked); connect to a name it holds (coordination.zookeeper.connect)");
            }
        }
    }

    @Test
    void aClientWithoutTlsIsToldTheServerAnswersTlsOnly() throws Exception {
        AgentConfigs configs = configs(ItSupport.uniqueCluster("zkplain"), "2s");
        try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
            long c0 = System.nanoTime();
            CommandResult check = agent.runCommand("check", CHECK_SECONDS);
            System.out.printf("ZooKeeperTlsIT plaintext client, check (%d ms):%n%s%n", (System.nanoTime() - c0) / 1_000_000, check.output());
            assertThat(check.exitCode()).isEqualTo(1);
            assertThat(check.output()).contains("FAIL  zookeeper: in plaintext as " + SaslZooKeeper.USER + ": cannot reach ZooKeeper at "
                    + zk.connectString() + " within 5000 ms: the ZooKeeper server at " + zk.connectString() + " answers TLS only"
                    + " (a secureClientPort): set coordination.zookeeper.tls.ca to the CA of its certificate");
        }
    }

    private AgentConfigs configs(String name, String session) {
        return new AgentConfigs(sandbox, name).mode("zookeeper").zookeeperConnect(zk.connectString())
                .zookeeperSessionTimeout(session).zookeeperAuth(SaslZooKeeper.USER, SaslZooKeeper.PASSWORD);
    }

    /** A plaintext four-letter word to the server's client port: the empty string when nothing plaintext answers. */
    private static String plaintextRuok() {
        int port = Integer.parseInt(zk.connectString().substring(zk.connectString().lastIndexOf(':') + 1));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("ruok".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readNBytes(4), StandardCharsets.US_ASCII);
        } catch (java.io.IOException e) {
            return "";
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
