package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgrelay.common.tls.TestCa;
import io.pgrelay.common.tls.TlsContexts;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.DashboardProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The agent's HTTP API over HTTPS ({@code agent.tls}, a certificate from a test CA made now), with
 * admin and read tokens ({@code agent.tokens}, {@code agent.adminToken} from a file), and reads
 * protected ({@code agent.protectReads: true}).
 */
@ExtendWith(SandboxExtension.class)
class AdminHttpsIT {

    private static final String ADMIN_1 = "admin-token-one-0123456789";
    private static final String ADMIN_2 = "admin-token-two-0123456789";
    private static final String FROM_FILE = "admin-token-from-a-file-0123";
    private static final String READ = "read-token-0123456789";

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void httpsWithScopedTokens() throws Exception {
        String cluster = ItSupport.uniqueCluster("https");
        int port = ItSupport.freePort();
        try (TestCa ca = TestCa.create("pgrelay-test-http-ca")) {
            TestCa.Issued cert = ca.server("agent-http", "agent-1", "localhost", "127.0.0.1");
            Path tokenFile = Files.writeString(ca.directory().resolve("admin-token"), FROM_FILE + "\n");
            AgentConfigs configs = new AgentConfigs(sandbox, cluster)
                    .agent("tls: { cert: '" + cert.cert() + "', key: '" + cert.key() + "' }")
                    .agent("tokens: { admin: ['" + ADMIN_1 + "', '" + ADMIN_2 + "'], read: ['" + READ + "'] }")
                    .agent("protectReads: true")
                    .adminToken("${file:" + tokenFile + "}");
            HttpClient trusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                    .sslContext(TlsContexts.client(ca.certificate(), true, null, null)).build();
            String base = "https://127.0.0.1:" + port;
            try (AgentProcess agent = AgentProcess.start("agent-1", configs.yaml("agent-1", port))) {
                ItSupport.await("the agent answers over HTTPS", Duration.ofSeconds(60), () -> {
                    try {
                        return send(trusting, get(base + "/health", null)).statusCode() == 200;
                    } catch (IOException | InterruptedException e) {
                        return false;
                    }
                });

                HttpResponse<String> status = send(trusting, get(base + "/status", READ));
                assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
                assertThat(ItSupport.json(status.body()).get("agent").asText()).isEqualTo("agent-1");
                assertThat(send(trusting, get(base + "/status", null)).statusCode()).as("reads are protected").isEqualTo(401);
                assertThat(send(trusting, get(base + "/metrics", "not-a-token")).statusCode()).isEqualTo(401);
                assertThat(send(trusting, get(base + "/metrics", ADMIN_2)).statusCode()).as("admin tokens read too").isEqualTo(200);

                HttpResponse<String> withRead = send(trusting, logLevel(base, READ));
                assertThat(withRead.statusCode()).isEqualTo(403);
                assertThat(withRead.body()).isEqualTo("{\"error\":\"this token may only read; /admin/log-level needs an admin token\"}");
                for (String admin : new String[] {ADMIN_1, ADMIN_2, FROM_FILE}) {
                    HttpResponse<String> ok = send(trusting, logLevel(base, admin));
                    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
                }
                assertThat(send(trusting, logLevel(base, ADMIN_1 + "x")).statusCode()).isEqualTo(401);
                assertThat(send(trusting, logLevel(base, null)).statusCode()).isEqualTo(401);

                HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                String httpBase = "http://127.0.0.1:" + port;
                String plainOutcome;
                try {
                    plainOutcome = "HTTP " + send(plain, get(httpBase + "/status", READ)).statusCode();
                } catch (IOException refused) {
                    plainOutcome = refused.getClass().getSimpleName() + ": " + refused.getMessage();
                }
                System.out.println("AdminHttpsIT: plain HTTP to the HTTPS port: " + plainOutcome);
                assertThat(plainOutcome).as("plain HTTP to the HTTPS port gets no answer, or an error status").isNotEqualTo("HTTP 200");

                HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                assertThatThrownBy(() -> send(untrusting, get(base + "/health", null)))
                        .as("a client that does not trust the test CA").isInstanceOf(SSLHandshakeException.class);

                // The dashboard: HTTPS itself, and polling the agent over HTTPS with a read token.
                TestCa.Issued dashboardCert = ca.server("dashboard-http", "dashboard", "localhost", "127.0.0.1");
                Path readTokenFile = Files.writeString(ca.directory().resolve("read-token"), READ + "\n");
                try (DashboardProcess dashboard = DashboardProcess.startHttps(trusting, "--agents", base,
                        "--agent-ca", ca.certificate().toString(), "--agent-token-file", readTokenFile.toString(),
                        "--tls-cert", dashboardCert.cert().toString(), "--tls-key", dashboardCert.key().toString())) {
                    ItSupport.await("the dashboard shows the agent reachable", Duration.ofSeconds(30), () -> {
                        try {
                            String shown = send(trusting, get(dashboard.url() + "/api/cluster", null)).body();
                            return ItSupport.json(shown).toString().contains("\"reachable\":true");
                        } catch (IOException | InterruptedException e) {
                            return false;
                        }
                    });
                    String page = send(trusting, get(dashboard.url() + "/api/cluster", null)).body();
                    assertThat(dashboard.url()).startsWith("https://");
                    assertThat(page).contains("\"agent\":\"agent-1\"").doesNotContain(READ);
                    assertThat(dashboard.log()).doesNotContain(READ);

                    // Its handover POST refuses another site's page, and lets its own through to the leader.
                    HttpResponse<String> crossSite = send(trusting, handover(dashboard.url(), "https://evil.example", ADMIN_1));
                    assertThat(crossSite.statusCode()).isEqualTo(403);
                    assertThat(crossSite.body()).isEqualTo("{\"error\":\"cross-site request refused: Origin https://evil.example"
                            + " is not this dashboard\"}");
                    HttpResponse<String> sameSite = send(trusting, handover(dashboard.url(), dashboard.url(), null));
                    assertThat(sameSite.statusCode()).as("relayed to the leader, which wants a token").isEqualTo(401);
                }

                // Every admin call is audited and counted, refusals included.
                String metrics = send(trusting, get(base + "/metrics", READ)).body();
                assertThat(metrics).contains("pgrelay_admin_requests_total{action=\"log-level\",cluster=\"" + cluster
                        + "\",status=\"200\"} 3.0", "status=\"403\"} 1.0", "status=\"401\"} 2.0");
                ItSupport.await("audit lines written", Duration.ofSeconds(5), () -> auditLines(agent).size() >= 6);
                assertThat(auditLines(agent)).contains(
                        "admin log-level target=ROOT=info caller=127.0.0.1 status=200",
                        "admin log-level target=- caller=127.0.0.1 status=403",
                        "admin log-level target=- caller=127.0.0.1 status=401");

                // Guessing is slowed down: after ten failures in ten seconds, 429 even for a right token.
                int limited = 0;
                for (int i = 0; i < 20; i++) {
                    int code = send(trusting, get(base + "/status", "guess-" + i)).statusCode();
                    limited += code == 429 ? 1 : 0;
                }
                assertThat(limited).as("20 wrong tokens at once: all after the limit are refused").isGreaterThanOrEqualTo(10);
                HttpResponse<String> blocked = send(trusting, get(base + "/status", READ));
                assertThat(blocked.statusCode()).isEqualTo(429);
                assertThat(blocked.headers().firstValue("Retry-After")).isPresent();
                assertThat(blocked.body()).startsWith("{\"error\":\"too many failed authentications from 127.0.0.1; retry in ");

                String log = agent.log();
                assertThat(log).contains("admin HTTPS listening on https://127.0.0.1:" + port);
                for (String secret : new String[] {ADMIN_1, ADMIN_2, FROM_FILE, READ}) {
                    assertThat(log).doesNotContain(secret);
                    assertThat(status.body()).doesNotContain(secret);
                }
            }
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, new AgentConfigs(sandbox, cluster).slot());
        }
    }

    private static java.util.List<String> auditLines(AgentProcess agent) {
        try {
            return agent.log().lines().filter(l -> l.contains("io.pgrelay.audit"))
                    .map(l -> l.substring(l.indexOf("admin "))).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static HttpRequest handover(String dashboardUrl, String origin, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(dashboardUrl + "/api/handover")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("Origin", origin).POST(HttpRequest.BodyPublishers.ofString("{}"));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    private static HttpRequest get(String url, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    private static HttpRequest logLevel(String base, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/admin/log-level")).timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"level\":\"info\"}"));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
