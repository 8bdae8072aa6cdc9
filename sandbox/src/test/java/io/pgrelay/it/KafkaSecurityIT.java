package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.common.tls.TestCa;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.AgentProcess.CommandResult;
import io.pgrelay.sandbox.server.SecureKafka;
import io.pgrelay.sandbox.server.TopicReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code kafka.security} against a broker that takes SASL_SSL (SCRAM-SHA-512) only and authorizes
 * by ACL with {@code allow.everyone.if.no.acl.found=false} ({@link SecureKafka}). The agent's user
 * gets exactly the ACLs docs/security.md lists; with them it streams, and without any one of them
 * {@code check} and {@code run} name the missing permission.
 */
@ExtendWith(SandboxExtension.class)
class KafkaSecurityIT {

    private static final long CHECK_SECONDS = 60;
    private static SecureKafka kafka;
    private final Sandbox sandbox = Sandbox.shared();

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = SecureKafka.start();
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** One documented ACL, and what {@code check} and {@code run} say without it. */
    record Grant(AclBinding binding, String checkSays, String runSays) {
        @Override
        public String toString() {
            return binding.entry().operation() + " on " + binding.pattern().resourceType() + " " + binding.pattern().patternType()
                    + " " + binding.pattern().name();
        }
    }

    /** The ACL set of docs/security.md for cluster {@code c} (topicPrefix {@code c}) and table {@code table}. */
    static List<Grant> documentedAcls(String c, String table) {
        String tableTopic = c + "." + table;
        String checkpoints = "_pgrelay." + c + ".checkpoints";
        String schema = c + "._schema";
        return List.of(
                grant(ResourceType.TOPIC, c + ".", PatternType.PREFIXED, AclOperation.CREATE,
                        "not authorized to CREATE topic " + schema, "not authorized to CREATE topic " + tableTopic),
                grant(ResourceType.TOPIC, c + ".", PatternType.PREFIXED, AclOperation.WRITE,
                        "not authorized to WRITE topic " + schema, "not authorized to WRITE topic " + tableTopic),
                grant(ResourceType.TOPIC, "_pgrelay." + c + ".", PatternType.PREFIXED, AclOperation.CREATE,
                        "not authorized to CREATE topic " + checkpoints, "not authorized to CREATE topic " + checkpoints),
                grant(ResourceType.TOPIC, "_pgrelay." + c + ".", PatternType.PREFIXED, AclOperation.WRITE,
                        "not authorized to WRITE topic " + checkpoints, "not authorized to WRITE topic " + checkpoints),
                grant(ResourceType.TOPIC, checkpoints, PatternType.LITERAL, AclOperation.READ,
                        "not authorized to READ topic " + checkpoints, "not authorized to READ topic " + checkpoints),
                grant(ResourceType.TOPIC, schema, PatternType.LITERAL, AclOperation.READ,
                        "not authorized to READ topic " + schema, "not authorized to READ topic " + schema),
                grant(ResourceType.TRANSACTIONAL_ID, "pgrelay-" + c, PatternType.LITERAL, AclOperation.WRITE,
                        "not authorized to WRITE (nor DESCRIBE) TRANSACTIONAL_ID pgrelay-" + c,
                        "not authorized to WRITE TRANSACTIONAL_ID pgrelay-" + c));
    }

    private static Grant grant(ResourceType type, String name, PatternType pattern, AclOperation op, String check, String run) {
        return new Grant(new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + SecureKafka.AGENT_USER, "*", op, AclPermissionType.ALLOW)), check, run);
    }

    private AgentConfigs configs(String cluster, String password, Path ca) {
        return new AgentConfigs(sandbox, cluster).bootstrapServers(kafka.bootstrapServers())
                .kafka("security: { protocol: SASL_SSL, sasl: { mechanism: SCRAM-SHA-512, username: " + SecureKafka.AGENT_USER
                        + ", password: '" + password + "' }, tls: { ca: '" + ca + "' } }");
    }

    @Test
    void withExactlyTheDocumentedAclsTheAgentStreamsAndWithoutEachOneCheckAndRunNameIt() throws Exception {
        String cluster = ItSupport.uniqueCluster("kafkasec");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
        List<Grant> acls = documentedAcls(cluster, table);
        AgentConfigs configs = configs(cluster, SecureKafka.AGENT_PASSWORD, kafka.ca().certificate()).tables(table);
        long t0 = System.nanoTime();
        try (Admin admin = kafka.admin()) {
            setAcls(admin, acls.stream().map(Grant::binding).toList());
            try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
                ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(60));
                for (int i = 0; i < 5; i++) {
                    sandbox.postgres().execute("INSERT INTO " + table + " VALUES (" + i + ", 'over sasl_ssl')");
                }
                List<ConsumerRecord<String, String>> records;
                try (TopicReader reader = new TopicReader(kafka.superUserClientConfig(), cluster + "." + table)) {
                    records = reader.readUntil(r -> r.size() >= 5, Duration.ofSeconds(30));
                }
                assertThat(records).hasSize(5).allSatisfy(r -> assertThat(r.value()).contains("over sasl_ssl"));
                agent.stop(30);
                assertThat(agent.log()).doesNotContain(SecureKafka.AGENT_PASSWORD);
                CommandResult check = agent.runCommand("check", CHECK_SECONDS, "--kafka-timeout", "20");
                System.out.println("KafkaSecurityIT all ACLs:\n" + check.output());
                assertThat(check.output()).contains("OK    kafka: reached cluster").contains(" over SASL_SSL as " + SecureKafka.AGENT_USER)
                        .doesNotContain("FAIL  kafka").doesNotContain(SecureKafka.AGENT_PASSWORD);
            }
            System.out.println("KafkaSecurityIT streamed in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            int row = 100;
            for (Grant missing : acls) {
                long t1 = System.nanoTime();
                List<AclBinding> less = new ArrayList<>();
                acls.stream().filter(g -> g != missing).forEach(g -> less.add(g.binding()));
                setAcls(admin, less);
                sandbox.postgres().execute("INSERT INTO " + table + " VALUES (" + row++ + ", 'without " + missing + "')");
                try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                    agent.start(); // `run` and `check` side by side: two JVMs starting take as long as one on the sandbox's cores
                    CommandResult check = agent.runCommand("check", CHECK_SECONDS, "--kafka-timeout", "20");
                    ItSupport.await("run to say " + missing.runSays(), Duration.ofSeconds(30), () -> logContains(agent, missing.runSays()));
                    agent.kill();
                    String said = agent.log().lines().filter(l -> l.contains(missing.runSays())).findFirst().orElseThrow();
                    System.out.println("KafkaSecurityIT without " + missing + ":\n  check: "
                            + check.output().lines().filter(l -> l.startsWith("FAIL")).toList() + "\n  run:   " + said
                            + "\n  (" + (System.nanoTime() - t1) / 1_000_000 + " ms)");
                    assertThat(check.exitCode()).as(check.output()).isEqualTo(1);
                    assertThat(check.output()).as(check.output()).contains("FAIL  kafka: " + missing.checkSays())
                            .doesNotContain(SecureKafka.AGENT_PASSWORD);
                    assertThat(check.output().lines().filter(l -> l.startsWith("FAIL")))
                            .as("only Kafka fails").allSatisfy(l -> assertThat(l).startsWith("FAIL  kafka: not authorized to"));
                    assertThat(agent.log()).doesNotContain(SecureKafka.AGENT_PASSWORD);
                }
            }
            setAcls(admin, acls.stream().map(Grant::binding).toList());
            try (TopicReader reader = new TopicReader(kafka.superUserClientConfig(), cluster + "." + table)) {
                assertThat(reader.readUntil(r -> r.size() > 5, Duration.ofSeconds(2)))
                        .as("nothing was written while a permission was missing").hasSize(5);
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    @Test
    void againstABrokerWithoutAnAuthorizerCheckFindsNothingMissing() throws Exception {
        AgentConfigs configs = new AgentConfigs(sandbox, ItSupport.uniqueCluster("kafkaopen"));
        try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
            CommandResult check = agent.runCommand("check", CHECK_SECONDS, "--kafka-timeout", "20");
            System.out.println("KafkaSecurityIT open broker:\n" + check.output());
            assertThat(check.output()).contains("OK    kafka: reached cluster").contains("OK    kafka: may DESCRIBE transactional id")
                    .contains("NOTE  kafka: topic _pgrelay.").doesNotContain("FAIL  kafka");
        }
    }

    @Test
    void aWrongPasswordFailsCheckAsASaslAuthenticationFailure() throws Exception {
        AgentConfigs configs = configs(ItSupport.uniqueCluster("kafkapw"), "not-the-password", kafka.ca().certificate());
        try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
            CommandResult check = agent.runCommand("check", CHECK_SECONDS, "--kafka-timeout", "20");
            System.out.println("KafkaSecurityIT wrong password:\n" + check.output());
            assertThat(check.exitCode()).isEqualTo(1);
            assertThat(check.output()).contains("FAIL  kafka: cannot use " + kafka.bootstrapServers() + ": SASL authentication failed: ")
                    .contains("SCRAM-SHA-512").doesNotContain("not-the-password");
        }
    }

    @Test
    void aWrongCaFailsCheckAsATlsFailure() throws Exception {
        try (TestCa wrong = TestCa.create("some-other-ca")) {
            AgentConfigs configs = configs(ItSupport.uniqueCluster("kafkaca"), SecureKafka.AGENT_PASSWORD, wrong.certificate());
            try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                CommandResult check = agent.runCommand("check", CHECK_SECONDS, "--kafka-timeout", "20");
                System.out.println("KafkaSecurityIT wrong CA:\n" + check.output());
                assertThat(check.exitCode()).isEqualTo(1);
                assertThat(check.output()).contains("FAIL  kafka: cannot use " + kafka.bootstrapServers()
                        + ": TLS handshake with the broker failed: ").doesNotContain(SecureKafka.AGENT_PASSWORD);
            }
        }
    }

    @Test
    void withAClientCertificateOverSslTheAgentStreamsAndWithoutOneTheBrokerRefusesIt() throws Exception {
        String cluster = ItSupport.uniqueCluster("kafkamtls");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
        TestCa.Issued cert = kafka.clientCertificate(SecureKafka.AGENT_USER);
        String ca = "ca: '" + kafka.ca().certificate() + "'";
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).bootstrapServers(kafka.sslBootstrapServers()).tables(table)
                .kafka("security: { protocol: SSL, tls: { " + ca + ", cert: '" + cert.cert() + "', key: '" + cert.key() + "' } }");
        try (Admin admin = kafka.admin()) {
            setAcls(admin, documentedAcls(cluster, table).stream().map(Grant::binding).toList());
            try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
                ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(60));
                for (int i = 0; i < 3; i++) {
                    sandbox.postgres().execute("INSERT INTO " + table + " VALUES (" + i + ", 'over ssl with a client certificate')");
                }
                try (TopicReader reader = new TopicReader(kafka.superUserClientConfig(), cluster + "." + table)) {
                    assertThat(reader.readUntil(r -> r.size() >= 3, Duration.ofSeconds(30))).hasSize(3);
                }
                agent.stop(30);
                assertThat(agent.log()).doesNotContain(keyBody(cert.key()));
            }
            AgentConfigs withoutCert = new AgentConfigs(sandbox, cluster).bootstrapServers(kafka.sslBootstrapServers()).tables(table)
                    .kafka("security: { protocol: SSL, tls: { " + ca + " } }");
            try (AgentProcess agent = AgentProcess.prepare("agent-1", withoutCert.yaml("agent-1", ItSupport.freePort()))) {
                CommandResult check = agent.runCommand("check", CHECK_SECONDS, "--kafka-timeout", "20");
                System.out.println("KafkaSecurityIT SSL without a client certificate:\n" + check.output());
                assertThat(check.exitCode()).isEqualTo(1);
                assertThat(check.output()).contains("FAIL  kafka: cannot use " + kafka.sslBootstrapServers() + ": TLS handshake with"
                        + " the broker failed: Received fatal alert: bad_certificate (the broker refused this client's certificate,"
                        + " or its lack of one: set kafka.security.tls.cert and kafka.security.tls.key to a certificate the"
                        + " broker's truststore accepts)");
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private static String keyBody(java.nio.file.Path pem) throws java.io.IOException {
        return java.nio.file.Files.readAllLines(pem).stream().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    }

    private static boolean logContains(AgentProcess agent, String text) {
        try {
            return agent.log().contains(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void setAcls(Admin admin, List<AclBinding> acls) throws Exception {
        admin.deleteAcls(List.of(AclBindingFilter.ANY)).all().get(30, TimeUnit.SECONDS);
        admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
    }
}
