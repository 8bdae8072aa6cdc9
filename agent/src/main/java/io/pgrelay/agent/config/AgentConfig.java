package io.pgrelay.agent.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code agent} section: this agent's identity and its admin/metrics listener.
 *
 * @param id           unique per agent in the cluster; defaults to the host name
 * @param http         where the admin and metrics HTTP server listens
 * @param adminToken   one admin bearer token (kept from before {@code tokens}); empty: none
 * @param tls          HTTPS for the listener; {@link HttpTls#NONE}: plain HTTP
 * @param tokens       {@code agent.tokens}: admin and read tokens, several of each at once (rotation)
 * @param protectReads whether {@code /status}, {@code /stats} and {@code /metrics} need a read (or
 *                     admin) token; {@code /health} and {@code /ready} never do (probes)
 * @param warmUp       {@code agent.warmUp} (off by default: no measured gain, BENCHMARKS.md "Takeover catch-up"):
 *                     a standby runs the per-event path over a synthetic stream once (see {@code HotPathRehearsal})
 */
public record AgentConfig(String id, HostPort http, Secret adminToken, HttpTls tls, Tokens tokens, boolean protectReads,
                          boolean warmUp) {

    public static final HostPort DEFAULT_HTTP = new HostPort("127.0.0.1", 8081);

    /** {@code agent.tokens}: {@code admin} tokens may call every route, {@code read} tokens the read routes only. */
    public record Tokens(List<Secret> admin, List<Secret> read) {
        public static final Tokens NONE = new Tokens(List.of(), List.of());

        public Tokens {
            admin = List.copyOf(admin);
            read = List.copyOf(read);
        }
    }

    public AgentConfig(String id, HostPort http, Secret adminToken) {
        this(id, http, adminToken, HttpTls.NONE, Tokens.NONE, false, false);
    }

    /** Every admin token: {@code adminToken} and {@code tokens.admin}. */
    public List<Secret> adminTokens() {
        List<Secret> all = new ArrayList<>();
        if (!adminToken.isEmpty()) {
            all.add(adminToken);
        }
        all.addAll(tokens.admin());
        return all;
    }

    /** The listener's URL as other agents and the dashboard reach it: {@code https://} when {@link #tls} is set. */
    public String url() {
        return (tls.enabled() ? "https://" : "http://") + http;
    }

    public boolean adminEnabled() {
        return !adminTokens().isEmpty();
    }
}
