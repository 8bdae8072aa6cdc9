package io.pgrelay.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgrelay.agent.kafka.KafkaClients;
import io.pgrelay.common.tls.TestCa;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code kafka.security} and the guard on {@code kafka.producer}. */
class KafkaSecurityConfigTest {

    private static TestCa ca;
    private static TestCa.Issued client;

    @BeforeAll
    static void pki() throws Exception {
        ca = TestCa.create("kafka-unit-ca");
        client = ca.client("kafka-client", "pgrelay");
    }

    @AfterAll
    static void removePki() {
        ca.close();
    }

    private static PgRelayConfig parse(String kafka) {
        return new ConfigLoader(Map.<String, String>of()::get, () -> "host-1").parse(config(kafka), "config.yaml");
    }

    private static List<String> problems(String kafka) {
        return catchThrowableOfType(ConfigException.class, () -> parse(kafka)).problems().stream().map(Problem::toString).toList();
    }

    private static String config(String kafkaExtra) {
        return "cluster: demo\nagent: { id: a1 }\n"
                + "postgres: { url: 'jdbc:postgresql://db:5432/app', user: replicator, tls: { mode: disable } }\n"
                + "kafka:\n  bootstrapServers: 'k1:9093'\n" + kafkaExtra;
    }

    private static String saslSsl(String password, Path caFile) {
        return "  security: { protocol: SASL_SSL, sasl: { mechanism: SCRAM-SHA-512, username: pgrelay, password: '" + password
                + "' }, tls: { ca: '" + caFile + "' } }\n";
    }

    @Test
    void saslSslBecomesTheSettingsOfEveryClientAndThePasswordIsMasked() {
        PgRelayConfig c = parse(saslSsl("s3cret-pw", ca.certificate()));
        Map<String, Object> clients = KafkaClients.config(c.kafka(), "pgrelay-a1");
        assertThat(clients).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"pgrelay\" password=\"s3cret-pw\";")
                .containsEntry("ssl.truststore.type", "PEM").containsEntry("ssl.truststore.location", ca.certificate().toString())
                .containsEntry("bootstrap.servers", "k1:9093");
        assertThat(c.describeMaskedOneLine()).contains("\"security\":{\"protocol\":\"SASL_SSL\",\"sasl\":{\"mechanism\":\"SCRAM-SHA-512\","
                + "\"username\":\"pgrelay\",\"password\":\"****\"}").doesNotContain("s3cret-pw");
        assertThat(c.toString()).doesNotContain("s3cret-pw");
    }

    @Test
    void aPasswordWithQuotesAndBackslashesIsQuotedForJaas() {
        assertThat(KafkaSecurity.jaasQuoted("a\"b\\c")).isEqualTo("a\\\"b\\\\c");
    }

    @Test
    void aClientCertificateGoesInlineAsPemThatKafkaClientsAccept() {
        PgRelayConfig c = parse("  security: { protocol: SSL, tls: { ca: '" + ca.certificate() + "', cert: '" + client.cert()
                + "', key: '" + client.key() + "' } }\n");
        Map<String, Object> clients = new HashMap<>(KafkaClients.config(c.kafka(), "pgrelay-a1"));
        assertThat(clients).containsEntry("security.protocol", "SSL").containsEntry("ssl.keystore.type", "PEM")
                .doesNotContainKey("ssl.key.password").doesNotContainKey("sasl.jaas.config");
        assertThat((String) clients.get("ssl.keystore.certificate.chain")).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat((String) clients.get("ssl.keystore.key")).startsWith("-----BEGIN PRIVATE KEY-----");
        // kafka-clients loads the trust and key stores when it builds its channel, at creation: no broker needed
        clients.put("bootstrap.servers", "127.0.0.1:9"); // resolvable; never contacted
        try (Admin admin = Admin.create(clients)) {
            assertThat(admin).isNotNull();
        }
        assertThat(c.describeMaskedOneLine()).contains("\"key\":\"" + client.key() + "\"").doesNotContain("PRIVATE KEY");
    }

    @Test
    void securityProblemsAreAllReported() {
        assertThat(problems("  security: { protocol: TLS }\n"))
                .containsExactly("kafka.security.protocol: 'TLS' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
        assertThat(problems("  security: { protocol: SASL_SSL }\n"))
                .containsExactly("kafka.security.sasl: required with protocol SASL_SSL: { mechanism, username, password }");
        assertThat(problems("  security: { protocol: SSL, sasl: { mechanism: GSSAPI, username: u } }\n")).containsExactly(
                "kafka.security.sasl.mechanism: 'GSSAPI' is not one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN",
                "kafka.security.sasl.password: required: the SASL password of u",
                "kafka.security.sasl: not used with protocol SSL; use SASL_SSL (or SASL_PLAINTEXT), or remove sasl");
        assertThat(problems("  security: { protocol: PLAINTEXT, tls: { ca: '/nowhere/ca.pem' } }\n")).containsExactly(
                "kafka.security.tls.ca: /nowhere/ca.pem: no such file",
                "kafka.security.tls: not used with protocol PLAINTEXT, which does not encrypt; use SSL or SASL_SSL, or remove tls");
        assertThat(problems("  security: { protocol: SSL, tls: { cert: '" + client.cert() + "' }, trust: x }\n")).containsExactly(
                "kafka.security.tls.key: required with kafka.security.tls.cert: the client certificate's private key (PEM)",
                "kafka.security.trust: unknown key");
    }

    @Test
    void producerSettingsThatWouldWeakenTheGuaranteesAreRefused() {
        assertThat(problems("  producer: { acks: '1', enable.idempotence: 'false', retries: '0', "
                + "max.in.flight.requests.per.connection: '10', transactional.id: mine }\n")).containsExactly(
                "kafka.producer[acks]: '1' would weaken the guarantees: a record is committed only once every in-sync replica has it"
                        + " (acks=all, which pgrelay sets); remove it",
                "kafka.producer[enable.idempotence]: 'false' would weaken the guarantees: pgrelay's transactional producer is"
                        + " idempotent; remove it",
                "kafka.producer[retries]: '0' would weaken the guarantees: the idempotent producer retries; remove it",
                "kafka.producer[max.in.flight.requests.per.connection]: '10' would weaken the guarantees: the idempotent producer"
                        + " keeps order with at most 5; remove it",
                "kafka.producer[transactional.id]: set by pgrelay; remove it");
        assertThat(parse("  producer: { acks: all, enable.idempotence: 'true', max.in.flight.requests.per.connection: '5' }\n")
                .kafka().producer()).containsEntry("acks", "all");
    }

    @Test
    void securitySettingsInTheProducerClashWithKafkaSecurity() {
        assertThat(problems(saslSsl("pw", ca.certificate()) + "  producer: { security.protocol: SSL, ssl.truststore.location: /x,"
                + " sasl.jaas.config: 'y', linger.ms: '10' }\n")).containsExactlyInAnyOrder(
                "kafka.producer[security.protocol]: a security setting, and kafka.security is set: say it there (protocol, sasl,"
                        + " tls), or remove it",
                "kafka.producer[ssl.truststore.location]: a security setting, and kafka.security is set: say it there (protocol,"
                        + " sasl, tls), or remove it",
                "kafka.producer[sasl.jaas.config]: a security setting, and kafka.security is set: say it there (protocol, sasl,"
                        + " tls), or remove it");
    }

    @Test
    void withoutKafkaSecurityThePassthroughStillWorks() {
        PgRelayConfig c = parse("  producer: { security.protocol: SASL_SSL, sasl.mechanism: PLAIN }\n");
        assertThat(c.kafka().security().configured()).isFalse();
        assertThat(KafkaClients.config(c.kafka(), "x")).containsEntry("security.protocol", "SASL_SSL");
    }
}
