package io.pgrelay.dashboard;

import io.pgrelay.common.tls.TlsContexts;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the dashboard talks to agents: one {@link HttpClient} that trusts the agents' CA for HTTPS
 * ({@code --agent-ca}), and the read token it sends with every poll ({@code --agent-token-file}),
 * for agents with {@code agent.protectReads}. The token is never logged, nor sent to a page.
 */
final class AgentClient {

    private final HttpClient http;
    private final String readToken;
    private final boolean https;

    private AgentClient(HttpClient http, String readToken, boolean https) {
        this.http = http;
        this.readToken = readToken;
        this.https = https;
    }

    /** {@code ca} null: plain HTTP to registry members, the JVM's trust store for https:// URLs. */
    static AgentClient of(Path ca, String readToken, Duration connectTimeout) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connectTimeout);
        if (ca != null) {
            b.sslContext(TlsContexts.client(ca, true, null, null));
        }
        return new AgentClient(b.build(), readToken == null || readToken.isBlank() ? null : readToken.strip(), ca != null);
    }

    static AgentClient plain(Duration connectTimeout) {
        return of(null, null, connectTimeout);
    }

    HttpClient http() {
        return http;
    }

    /** The scheme for a member the registry lists as {@code host:port}: https once a CA for agents is given. */
    String scheme() {
        return https ? "https://" : "http://";
    }

    /** A GET with the read token, if one is configured. */
    HttpRequest.Builder get(String url, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(java.net.URI.create(url)).timeout(timeout).GET();
        if (readToken != null) {
            b.header("Authorization", "Bearer " + readToken);
        }
        return b;
    }
}
