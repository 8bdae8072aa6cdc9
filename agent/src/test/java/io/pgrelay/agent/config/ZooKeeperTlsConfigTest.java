package io.pgrelay.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgrelay.common.tls.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code coordination.zookeeper.tls}. */
class ZooKeeperTlsConfigTest {

    private static TestCa ca;

    @BeforeAll
    static void makeCa() throws Exception {
        ca = TestCa.create("zk-config-ca");
    }

    @AfterAll
    static void removeCa() {
        ca.close();
    }

    private static String config(String zookeeper) {
        return "cluster: demo\nagent: { id: a1 }\n"
                + "postgres: { url: 'jdbc:postgresql://db:5432/app', user: replicator, tls: { mode: disable } }\n"
                + "kafka: { bootstrapServers: 'k1:9092' }\n"
                + "coordination: { mode: zookeeper, zookeeper: { connect: 'zk:2281'" + zookeeper + " } }\n";
    }

    private static PgRelayConfig parse(String yaml) {
        return new ConfigLoader(Map.<String, String>of()::get, () -> "host-1").parse(yaml, "config.yaml");
    }

    private static List<String> problems(String zookeeper) {
        return catchThrowableOfType(ConfigException.class, () -> parse(config(zookeeper))).problems().stream()
                .map(Problem::toString).toList();
    }

    @Test
    void theCaIsReadAndShownInTheEffectiveConfig() {
        PgRelayConfig c = parse(config(", tls: { ca: '" + ca.certificate() + "' }"));
        assertThat(c.coordination().zookeeper().tlsCa()).isEqualTo(ca.certificate());
        assertThat(c.coordination().zookeeper().tls()).isTrue();
        assertThat(c.describeMaskedOneLine()).contains("\"tls\":{\"ca\":\"" + ca.certificate() + "\"}");
    }

    @Test
    void tlsCombinesWithAuth() {
        PgRelayConfig c = parse(config(", auth: { username: pgrelay, password: 'zk-s3cret' }, tls: { ca: '"
                + ca.certificate() + "' }"));
        assertThat(c.coordination().zookeeper().authenticates()).isTrue();
        assertThat(c.coordination().zookeeper().tlsCa()).isEqualTo(ca.certificate());
        assertThat(c.describeMaskedOneLine()).doesNotContain("zk-s3cret");
    }

    @Test
    void withoutTlsTheClientIsPlaintext() {
        assertThat(parse(config("")).coordination().zookeeper().tls()).isFalse();
    }

    @Test
    void tlsWithoutACaIsAProblem() {
        assertThat(problems(", tls: {}")).containsExactly(
                "coordination.zookeeper.tls.ca: required: the CA (PEM) that signed the ZooKeeper servers' certificates");
    }

    @Test
    void aMissingCaFileIsAProblemNamingIt() {
        assertThat(problems(", tls: { ca: /nonexistent/zk-ca.pem }")).containsExactly(
                "coordination.zookeeper.tls.ca: /nonexistent/zk-ca.pem: no such file");
    }

    @Test
    void aCaFileThatIsNotPemIsAProblemNamingIt() throws Exception {
        Path notPem = Files.writeString(ca.directory().resolve("not-a-ca.txt"), "hello\n");
        assertThat(problems(", tls: { ca: '" + notPem + "' }")).containsExactly("coordination.zookeeper.tls.ca: " + notPem
                + ": no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)");
    }

    @Test
    void aClientCertificateIsRefusedByName() {
        assertThat(problems(", tls: { ca: '" + ca.certificate() + "', cert: /c.pem, key: /k.pem, caFile: x }")).containsExactly(
                "coordination.zookeeper.tls.cert: a client certificate to ZooKeeper is not supported; remove it"
                        + " (the agents log in with coordination.zookeeper.auth)",
                "coordination.zookeeper.tls.key: a client certificate to ZooKeeper is not supported; remove it"
                        + " (the agents log in with coordination.zookeeper.auth)",
                "coordination.zookeeper.tls.caFile: unknown key");
    }

    @Test
    void tlsProblemsAreReportedWithTheOthers() {
        List<String> problems = problems(", sessionTimeout: soon, tls: { ca: /nonexistent/zk-ca.pem }");
        assertThat(problems).hasSize(2).anyMatch(p -> p.startsWith("coordination.zookeeper.sessionTimeout"))
                .contains("coordination.zookeeper.tls.ca: /nonexistent/zk-ca.pem: no such file");
    }
}
