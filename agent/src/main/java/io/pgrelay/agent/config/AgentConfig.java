package io.pgrelay.agent.config;

/**
 * The {@code agent} section: this agent's identity and its admin/metrics listener.
 *
 * @param id         unique per agent in the cluster; defaults to the host name
 * @param http       where the admin and metrics HTTP server listens
 * @param adminToken bearer token for {@code /admin/*}; empty means the admin routes are disabled
 */
public record AgentConfig(String id, HostPort http, Secret adminToken) {

    public static final HostPort DEFAULT_HTTP = new HostPort("127.0.0.1", 8081);

    public boolean adminEnabled() {
        return !adminToken.isEmpty();
    }
}
