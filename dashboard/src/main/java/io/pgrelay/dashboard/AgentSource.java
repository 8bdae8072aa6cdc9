package io.pgrelay.dashboard;

import io.pgrelay.coordination.Member;
import io.pgrelay.coordination.MemberRegistry;

import java.sql.DriverManager;
import java.util.List;
import java.util.Properties;

/**
 * Where the dashboard learns which agents exist: a static list of URLs, or the cluster's member
 * registry (read again every few seconds). An agent that leaves the source is not forgotten at
 * once: the page keeps showing it, unreachable.
 */
public interface AgentSource {

    /** One agent's HTTP base URL, and its id when the source knows it (null: learnt from /status). */
    record Endpoint(String id, String url) {
    }

    /** The agents known now. May block (registry reads); called from the discovery thread only. */
    List<Endpoint> endpoints() throws Exception;

    /** True when the list never changes: no need to read it again. */
    boolean fixed();

    static AgentSource of(List<String> urls) {
        List<Endpoint> endpoints = urls.stream()
                .map(String::trim).filter(u -> !u.isEmpty())
                .map(u -> new Endpoint(null, u.endsWith("/") ? u.substring(0, u.length() - 1) : u))
                .toList();
        return new AgentSource() {
            @Override
            public List<Endpoint> endpoints() {
                return endpoints;
            }

            @Override
            public boolean fixed() {
                return true;
            }
        };
    }

    static AgentSource of(RegistrySettings settings) {
        return of(settings, "http://");
    }

    /** Members the registry lists as {@code host:port} are reached with {@code scheme} ({@code https://} with {@code --agent-ca}). */
    static AgentSource of(RegistrySettings settings, String scheme) {
        return new AgentSource() {
            @Override
            public List<Endpoint> endpoints() throws Exception {
                List<Member> members;
                if ("zookeeper".equals(settings.mode())) {
                    members = MemberRegistry.read(settings.zookeeperConnect(), settings.cluster(),
                            settings.zookeeperAuth(), settings.zookeeperTls());
                } else {
                    Properties props = new Properties();
                    if (settings.postgresUser() != null) {
                        props.setProperty("user", settings.postgresUser());
                    }
                    props.setProperty("password", settings.postgresPassword());
                    props.setProperty("ApplicationName", "pgrelay-dashboard");
                    props.setProperty("connectTimeout", "3");
                    props.setProperty("socketTimeout", "5");
                    if (settings.postgresTls() != null) {
                        settings.postgresTls().applyTo(props);
                    }
                    members = MemberRegistry.read(() -> DriverManager.getConnection(settings.postgresUrl(), props),
                            settings.cluster(), MemberRegistry.liveWithin(settings.pollInterval()));
                }
                return members.stream()
                        .filter(m -> m.http() != null && !m.http().isBlank())
                        .map(m -> new Endpoint(m.id(), m.http().startsWith("http") ? m.http() : scheme + m.http()))
                        .toList();
            }

            @Override
            public boolean fixed() {
                return false;
            }
        };
    }
}
