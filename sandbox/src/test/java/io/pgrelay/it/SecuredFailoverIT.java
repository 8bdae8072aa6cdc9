package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.common.tls.TestCa;
import io.pgrelay.common.tls.TlsContexts;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.Ports;
import io.pgrelay.sandbox.server.SaslZooKeeper;
import io.pgrelay.sandbox.server.SecureKafka;
import io.pgrelay.sandbox.server.TlsPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The failover test with everything secured, in both modes: PostgreSQL taking TLS connections only
 * with SCRAM passwords ({@link TlsPostgres}, {@code verify-full}); Kafka over SASL_SSL with SCRAM and
 * an authorizer that allows nothing but the documented ACLs ({@link SecureKafka},
 * {@link KafkaSecurityIT#documentedAcls}); ZooKeeper over TLS only, with SASL and ACLs ({@link SaslZooKeeper#startTlsOnly()});
 * the agents' API over HTTPS with admin and read tokens and reads protected. Three agents under
 * load; the leader is SIGKILLed repeatedly and leadership handed over once; the read_committed
 * consumer must see every change exactly once, in order. Then every byte the run produced — the
 * agents' logs, the bodies of {@code /status}, {@code /metrics} and the admin answers — is searched
 * for the secrets it was given.
 */
@ExtendWith(SandboxExtension.class)
class SecuredFailoverIT {

    private static final int KILLS = 1;
    private static final String ADMIN_TOKEN = "secured-admin-token-0123456789";
    private static final String READ_TOKEN = "secured-read-token-0123456789";

    private static TlsPostgres pg;
    private static SecureKafka kafka;
    private final Sandbox sandbox = Sandbox.shared();

    @BeforeAll
    static void startServers() throws Exception {
        pg = TlsPostgres.start();
        kafka = SecureKafka.start();
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private record Member(String id, AgentProcess process, String url) {
    }

    /** An HTTP answer; status 0 and no body when the agent did not answer (not listening yet, or killed). */
    private record Answer(int statusCode, String body) {
    }

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void killingTheLeaderWithEverythingSecuredLosesAndDuplicatesNothing(String mode) throws Exception {
        String cluster = ItSupport.uniqueCluster("sec" + mode.charAt(0));
        String table = "public." + cluster + "_load";
        LoadGenerator load = new LoadGenerator(SecuredFailoverIT::connect, table);
        load.createTable();
        AtomicBoolean stopLoad = new AtomicBoolean();
        List<String> captured = new ArrayList<>();
        List<Member> members = new ArrayList<>();
        try (TestCa httpCa = TestCa.create("pgrelay-test-agents-ca");
                SaslZooKeeper zk = mode.equals("zookeeper") ? SaslZooKeeper.startTlsOnly() : null) {
            TestCa.Issued httpCert = httpCa.server("agents", "localhost", "localhost", "127.0.0.1");
            Path adminTokenFile = Files.writeString(httpCa.directory().resolve("admin-token"), ADMIN_TOKEN + "\n");
            AgentConfigs configs = new AgentConfigs(sandbox, cluster).mode(mode).tables(table)
                    .postgres(pg.server()).login("postgres", TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD)
                    .postgresTls("{ mode: verify-full, ca: '" + pg.ca().certificate() + "' }")
                    .bootstrapServers(kafka.bootstrapServers())
                    .kafka("security: { protocol: SASL_SSL, sasl: { mechanism: SCRAM-SHA-512, username: " + SecureKafka.AGENT_USER
                            + ", password: '" + SecureKafka.AGENT_PASSWORD + "' }, tls: { ca: '" + kafka.ca().certificate() + "' } }")
                    .agent("tls: { cert: '" + httpCert.cert() + "', key: '" + httpCert.key() + "' }")
                    .agent("tokens: { admin: ['${file:" + adminTokenFile + "}'], read: ['" + READ_TOKEN + "'] }")
                    .agent("protectReads: true");
            if (zk != null) {
                configs.zookeeperConnect(zk.connectString()).zookeeperTls(zk.ca()).zookeeperAuth(SaslZooKeeper.USER, SaslZooKeeper.PASSWORD);
            }
            List<String> secrets = new ArrayList<>(List.of(TlsPostgres.SCRAM_PASSWORD, SecureKafka.AGENT_PASSWORD, ADMIN_TOKEN,
                    READ_TOKEN, keyBody(httpCert.key())));
            if (zk != null) {
                secrets.add(SaslZooKeeper.PASSWORD);
            }
            try (Admin admin = kafka.admin()) {
                KafkaSecurityIT.setAcls(admin, KafkaSecurityIT.documentedAcls(cluster, table).stream()
                        .map(KafkaSecurityIT.Grant::binding).toList());
            }
            HttpClient https = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                    .sslContext(TlsContexts.client(httpCa.certificate(), true, null, null)).build();
            for (int i = 1; i <= 3; i++) {
                int port = Ports.free();
                String id = "agent-" + i;
                members.add(new Member(id, AgentProcess.start(id, configs.yaml(id, port)), "https://127.0.0.1:" + port));
            }
            List<Long> takeovers = new ArrayList<>();
            try (LiveConsumer consumer = new LiveConsumer(kafka.superUserClientConfig(), cluster + "." + table)) {
                awaitLeader(https, members, captured);
                CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 50, 5, 2_000, stopLoad));
                for (int kill = 0; kill < KILLS; kill++) {
                    Member leader = awaitLeader(https, members, captured);
                    ItSupport.await("every agent ready", Duration.ofSeconds(60), () -> members.stream()
                            .allMatch(m -> m.process().isAlive() && get(https, m.url(), "/ready", READ_TOKEN, captured).statusCode() == 200));
                    JsonNode leaderStatus = status(https, leader, captured).orElseThrow();
                    assertThat(leaderStatus.path("http").asText()).as("the URL the agent gives others").isEqualTo(leader.url());
                    long epoch = leaderStatus.path("epoch").asLong();
                    ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
                    long t0 = System.nanoTime();
                    leader.process().kill();
                    ItSupport.await("a new leader's first record after killing " + leader.id(), Duration.ofSeconds(30),
                            () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
                    takeovers.add((consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000);
                    leader.process().start();
                }

                // one handover, with the admin token over HTTPS; a read token may not
                Member from = awaitLeader(https, members, captured);
                Member to = members.stream().filter(m -> m != from).findFirst().orElseThrow();
                ItSupport.await(to.id() + " ready", Duration.ofSeconds(60),
                        () -> get(https, to.url(), "/ready", READ_TOKEN, captured).statusCode() == 200);
                String body = "{\"to\":\"" + to.id() + "\"}";
                assertThat(post(https, from.url(), "/admin/handover", body, READ_TOKEN, captured).statusCode()).isEqualTo(403);
                Answer accepted = post(https, from.url(), "/admin/handover", body, ADMIN_TOKEN, captured);
                assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
                ItSupport.await(to.id() + " leads", Duration.ofSeconds(30), () -> status(https, to, captured)
                        .map(j -> "leader".equals(j.path("role").asText())).orElse(false));
                Thread.sleep(1000);

                stopLoad.set(true);
                writes.get();
                Verdict verdict;
                try (Connection c = connect()) {
                    verdict = consumer.awaitVerdict(c, table);
                }
                List<ConsumerRecord<String, String>> records = consumer.records();
                System.out.printf("SecuredFailoverIT %s: SIGKILL to a read_committed consumer's first record of the new leader"
                        + " (ms) %s; then a handover %s -> %s; %s%n", mode, takeovers, from.id(), to.id(), verdict);
                assertThat(verdict.clean()).as(verdict.toString()).isTrue();
                assertThat(Lsns.positions(records)).isSorted().doesNotHaveDuplicates();
                FailoverIT.assertEpochsNeverGoBack(records);
            }

            for (Member m : members) {
                captured.add(get(https, m.url(), "/metrics", READ_TOKEN, captured).body());
                captured.add(m.process().log());
            }
            long lines = captured.stream().mapToLong(c -> c.lines().count()).sum();
            for (String secret : secrets) {
                for (String text : captured) {
                    assertThat(text).as("a captured log or response holds a secret").doesNotContain(secret);
                }
            }
            System.out.printf("SecuredFailoverIT %s: %d secrets searched for in %d captured texts (%d lines): none found%n",
                    mode, secrets.size(), captured.size(), lines);
        } finally {
            stopLoad.set(true);
            for (Member m : members) {
                m.process().close();
            }
            dropSlotAndPublicationOnceReleased(cluster);
        }
    }

    private static Member awaitLeader(HttpClient https, List<Member> members, List<String> captured) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            List<Member> leaders = members.stream().filter(m -> m.process().isAlive())
                    .filter(m -> status(https, m, captured).map(j -> "leader".equals(j.path("role").asText())).orElse(false)).toList();
            if (leaders.size() == 1) {
                return leaders.get(0);
            }
            Thread.sleep(100);
        }
        for (Member m : members) {
            try {
                System.out.println("SecuredFailoverIT: " + m.id() + "'s log:\n" + m.process().log());
            } catch (IOException e) {
                System.out.println("SecuredFailoverIT: " + m.id() + "'s log unreadable: " + e);
            }
        }
        throw new IllegalStateException("no single leader within 60 s");
    }

    private static Optional<JsonNode> status(HttpClient https, Member m, List<String> captured) {
        Answer r = get(https, m.url(), "/status", READ_TOKEN, captured);
        return r.statusCode() == 200 ? Optional.of(ItSupport.json(r.body())) : Optional.empty();
    }

    /** A GET with a token. Every body answered is kept in {@code captured}. */
    private static Answer get(HttpClient https, String base, String path, String token, List<String> captured) {
        return send(https, HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5))
                .header("Authorization", "Bearer " + token).GET().build(), captured);
    }

    private static Answer post(HttpClient https, String base, String path, String body, String token,
            List<String> captured) {
        return send(https, HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), captured);
    }

    private static Answer send(HttpClient https, HttpRequest request, List<String> captured) {
        try {
            HttpResponse<String> r = https.send(request, HttpResponse.BodyHandlers.ofString());
            synchronized (captured) {
                captured.add(r.body());
            }
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Answer(0, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(0, "");
        }
    }

    /** The base64 body of a PEM key file: the secret part, whatever the lines around it say. */
    private static String keyBody(Path pem) throws IOException {
        return Files.readAllLines(pem).stream().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    }

    private static Connection connect() {
        try {
            return pg.connect();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void dropSlotAndPublicationOnceReleased(String cluster) throws InterruptedException {
        String slot = "pgrelay_" + cluster;
        ItSupport.await("slot " + slot + " released", Duration.ofSeconds(15), () -> {
            try (Connection c = connect(); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '" + slot + "'")) {
                rs.next();
                return rs.getLong(1) == 0;
            } catch (SQLException e) {
                return false;
            }
        });
        pg.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "'",
                "DROP PUBLICATION IF EXISTS " + slot);
    }
}
