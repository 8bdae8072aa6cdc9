package io.pgrelay.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgrelay.agent.http.BearerTokens;
import io.pgrelay.agent.http.BearerTokens.Scope;
import io.pgrelay.common.tls.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code postgres.tls}, {@code agent.tls}, {@code agent.tokens}, {@code agent.protectReads} and {@code ${file:}}. */
class SecurityConfigTest {

    private static TestCa ca;
    private static TestCa.Issued server;
    private static TestCa.Issued client;

    @BeforeAll
    static void pki() throws Exception {
        ca = TestCa.create("unit-ca");
        server = ca.server("server", "localhost", "localhost", "127.0.0.1");
        client = ca.client("client", "pgrelay_cert");
    }

    @AfterAll
    static void removePki() {
        ca.close();
    }

    private static PgRelayConfig parse(String yaml) {
        return new ConfigLoader(Map.<String, String>of()::get, () -> "host-1").parse(yaml, "config.yaml");
    }

    private static List<String> problems(String yaml) {
        return catchThrowableOfType(ConfigException.class, () -> parse(yaml)).problems().stream().map(Problem::toString).toList();
    }

    private static String config(String agentExtra, String postgresExtra) {
        return "cluster: demo\n"
                + "agent:\n  id: a1\n" + agentExtra
                + "postgres:\n  url: 'jdbc:postgresql://db:5432/app'\n  user: replicator\n" + postgresExtra
                + "kafka: { bootstrapServers: 'k1:9092' }\n";
    }

    @Test
    void postgresTlsWithACaDefaultsToVerifyFull() {
        PgRelayConfig c = parse(config("", "  tls: { ca: '" + ca.certificate() + "' }\n"));
        assertThat(c.postgres().tls()).isEqualTo(new PostgresTls(PostgresTls.Mode.VERIFY_FULL, ca.certificate(), null, null));
        assertThat(c.describeMaskedOneLine()).contains("\"tls\":{\"mode\":\"verify-full\"");
    }

    @Test
    void withoutPostgresTlsNothingIsSet() {
        assertThat(parse(config("", "")).postgres().tls().configured()).isFalse();
    }

    @Test
    void postgresTlsProblemsNameTheKeyAndTheFile(@TempDir Path dir) throws Exception {
        Path notPem = Files.writeString(dir.resolve("ca.txt"), "hello");
        assertThat(problems(config("", "  tls: { mode: verify-ca, ca: '" + dir.resolve("absent.pem") + "', cert: '"
                + client.cert() + "' }\n"))).containsExactly(
                "postgres.tls.ca: " + dir.resolve("absent.pem") + ": no such file",
                "postgres.tls.key: required with postgres.tls.cert: the client certificate's private key (PEM)");
        assertThat(problems(config("", "  tls: { mode: verify-full, ca: '" + notPem + "', key: '" + client.key() + "' }\n")))
                .containsExactly("postgres.tls.ca: " + notPem + ": no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
                        "postgres.tls.cert: required with postgres.tls.key: the client certificate (PEM) of that key");
        assertThat(problems(config("", "  tls: { mode: prefer }\n")))
                .containsExactly("postgres.tls.mode: 'prefer' is not one of disable, require, verify-ca, verify-full");
        assertThat(problems(config("", "  tls: { mode: require, ca: '" + ca.certificate() + "' }\n"))).containsExactly(
                "postgres.tls.ca: not used with mode require, which does not check the server's certificate; set mode verify-full"
                        + " (or verify-ca), or remove ca");
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() {
        assertThat(problems(config("", "  tls: { ca: '" + ca.certificate() + "', cert: '" + client.cert() + "', key: '"
                + server.key() + "' }\n"))).containsExactly(
                "postgres.tls.key: " + server.key() + " is not the private key of the certificate in " + client.cert());
    }

    @Test
    void anSslmodeInTheUrlConflictsWithPostgresTls() {
        String yaml = config("", "  tls: { mode: disable }\n").replace("db:5432/app'", "db:5432/app?sslmode=require'");
        assertThat(problems(yaml)).containsExactly(
                "postgres.url: sets sslmode, and so does postgres.tls; remove sslmode from the URL (pgjdbc would let the URL win)");
    }

    @Test
    void agentTlsNeedsBothFilesAndTheirPair() {
        assertThat(problems(config("  tls: { cert: '" + server.cert() + "' }\n", "")))
                .containsExactly("agent.tls.key: required: the private key (PEM) of agent.tls.cert");
        PgRelayConfig c = parse(config("  tls: { cert: '" + server.cert() + "', key: '" + server.key() + "' }\n", ""));
        assertThat(c.agent().tls()).isEqualTo(new HttpTls(server.cert(), server.key()));
        assertThat(c.agent().url()).as("what the member registry and /status give others").isEqualTo("https://127.0.0.1:8081");
        assertThat(parse(config("", "")).agent().url()).isEqualTo("http://127.0.0.1:8081");
    }

    @Test
    void tokensOfBothScopesAreReadAndNeverShown() {
        PgRelayConfig c = parse(config("  adminToken: old-admin\n  protectReads: true\n"
                + "  tokens: { admin: [new-admin-1, new-admin-2], read: [reader-1] }\n", ""));
        assertThat(c.agent().adminTokens()).extracting(Secret::reveal).containsExactly("old-admin", "new-admin-1", "new-admin-2");
        assertThat(c.agent().tokens().read()).extracting(Secret::reveal).containsExactly("reader-1");
        assertThat(c.agent().protectReads()).isTrue();
        assertThat(c.describeMaskedOneLine() + c.toString() + c.agent()).doesNotContain("old-admin", "new-admin", "reader-1");
    }

    @Test
    void tokenMistakesAreProblems() {
        assertThat(problems(config("  protectReads: true\n", ""))).containsExactly(
                "agent.protectReads: true, but no token could read: set agent.tokens.read (or agent.tokens.admin)");
        assertThat(problems(config("  tokens: { admin: [same], read: [same] }\n  protectReads: true\n", "")))
                .containsExactly("agent.tokens.read[0]: is also an admin token; a token has one scope");
        assertThat(problems(config("  tokens: { read: [r1] }\n", ""))).containsExactly(
                "agent.tokens.read: read tokens are asked for only with agent.protectReads: true; set it, or remove them"
                        + " (without it /status, /stats and /metrics are open)");
        assertThat(problems(config("  tokens: { admin: [a, a], write: [w] }\n", ""))).containsExactly(
                "agent.tokens.admin[1]: the same token is listed twice", "agent.tokens.write: unknown key");
    }

    @Test
    void aTokenComesFromAFileAndAMissingFileIsAProblemNamingThePath(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("admin-token"), "from-a-file\n");
        PgRelayConfig c = parse(config("  tokens: { admin: ['${file:" + token + "}'] }\n", ""));
        assertThat(c.agent().adminTokens()).extracting(Secret::reveal).containsExactly("from-a-file");
        assertThat(problems(config("  adminToken: ${file:" + dir.resolve("nope") + "}\n", "")))
                .containsExactly("agent.adminToken: ${file:" + dir.resolve("nope") + "}: no such file");
    }

    @Test
    void aTokenHasTheScopeItWasGivenAndNoOther() {
        BearerTokens tokens = new BearerTokens(List.of(Secret.of("admin-1"), Secret.of("admin-2")), List.of(Secret.of("read-1")));
        assertThat(tokens.scopeOf("Bearer admin-1")).isEqualTo(Scope.ADMIN);
        assertThat(tokens.scopeOf("Bearer admin-2")).isEqualTo(Scope.ADMIN);
        assertThat(tokens.scopeOf("bearer read-1")).isEqualTo(Scope.READ);
        assertThat(tokens.scopeOf("Bearer admin-")).isEqualTo(Scope.NONE);
        assertThat(tokens.scopeOf("Bearer admin-1x")).isEqualTo(Scope.NONE);
        assertThat(tokens.scopeOf("Basic admin-1")).isEqualTo(Scope.NONE);
        assertThat(tokens.scopeOf("Bearer ")).isEqualTo(Scope.NONE);
        assertThat(tokens.scopeOf(null)).isEqualTo(Scope.NONE);
        assertThat(tokens.toString()).isEqualTo("BearerTokens[admin=2, read=1]");
        assertThat(BearerTokens.NONE.adminEnabled()).isFalse();
    }
}
