package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.cluster.DashboardProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static io.pgrelay.dashboard.DashboardItSupport.agent;
import static io.pgrelay.dashboard.DashboardItSupport.await;
import static io.pgrelay.dashboard.DashboardItSupport.cluster;
import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard's JSON API against three real agents, found through the member registry. */
@ExtendWith(SandboxExtension.class)
class DashboardApiIT {

    private static final String TOKEN = "dashboard-admin-token";
    private final Sandbox sandbox = Sandbox.shared();

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void apiFollowsTheClusterThroughAKillAndRelaysHandover(String mode) throws Exception {
        String name = DashboardItSupport.uniqueCluster("dapi" + mode.charAt(0));
        AgentConfigs configs = new AgentConfigs(sandbox, name).mode(mode).adminToken(TOKEN);
        try (Cluster cluster = Cluster.start(configs, 3)) {
            Cluster.Member leader = cluster.awaitLeader(30_000);
            String urls = cluster.members().stream().map(Cluster.Member::url).collect(Collectors.joining(","));
            // the first dashboard reads the member registry (pgrelay.members or ZooKeeper) through agent-1's own config file
            try (DashboardProcess dashboard = DashboardProcess.start("--config", cluster.member("agent-1").process().config().toString());
                 DashboardProcess readOnly = DashboardProcess.start("--agents", urls, "--read-only")) {
                long t0 = System.nanoTime();
                await("the dashboard lists three reachable agents led by " + leader.id(), Duration.ofSeconds(20), () -> {
                    JsonNode c = cluster(dashboard.url());
                    return c != null && leader.id().equals(c.path("leader").asText()) && c.path("agents").size() == 3
                            && allReachable(c);
                });
                System.out.printf("DashboardApiIT %s: all three agents and the leader listed %d ms after the dashboard answered%n",
                        mode, (System.nanoTime() - t0) / 1_000_000);
                JsonNode c = cluster(dashboard.url());
                assertThat(c.path("cluster").asText()).isEqualTo(name);
                assertThat(fieldNames(c)).containsExactly("cluster", "leader", "agents");
                for (Cluster.Member m : cluster.members()) {
                    JsonNode a = agent(c, m.id());
                    assertThat(a).as(m.id()).isNotNull();
                    assertThat(fieldNames(a)).containsExactly("agent", "url", "reachable", "status", "lastContact");
                    assertThat(a.path("url").asText()).isEqualTo(m.url());
                    assertThat(a.path("status").path("role").asText()).isIn("leader", "standby");
                    assertThat(a.path("status").has("slot")).isTrue();
                    assertThat(a.path("lastContact").asText()).isNotEmpty();
                }
                assertThat(AgentHttp.get(dashboard.url(), "/").body()).contains("<title>pgrelay dashboard</title>");
                assertThat(AgentHttp.get(dashboard.url(), "/app.js").status()).isEqualTo(200);

                leader.process().kill();
                long killedAt = System.nanoTime();
                await("a new leader, and " + leader.id() + " listed as unreachable", Duration.ofSeconds(20), () -> {
                    JsonNode now = cluster(dashboard.url());
                    if (now == null || now.path("leader").isNull() || leader.id().equals(now.path("leader").asText())) {
                        return false;
                    }
                    JsonNode old = agent(now, leader.id());
                    return old != null && !old.path("reachable").asBoolean(true);
                });
                long seenMs = (System.nanoTime() - killedAt) / 1_000_000;
                JsonNode after = cluster(dashboard.url());
                String newLeader = after.path("leader").asText();
                JsonNode dead = agent(after, leader.id());
                System.out.printf("DashboardApiIT %s: SIGKILL of %s to the dashboard showing %s leading and %s unreachable: %d ms%n",
                        mode, leader.id(), newLeader, leader.id(), seenMs);
                assertThat(after.path("agents").size()).isEqualTo(3);
                assertThat(dead.path("status").path("role").asText()).as("last known status kept").isEqualTo("leader");
                assertThat(seenMs).isLessThan(15_000);

                String target = cluster.members().stream().map(Cluster.Member::id)
                        .filter(id -> !id.equals(leader.id()) && !id.equals(newLeader)).findFirst().orElseThrow();
                String body = "{\"to\":\"" + target + "\"}";
                AgentHttp.Response noToken = AgentHttp.post(dashboard.url(), "/api/handover", body, null);
                assertThat(noToken.status()).isEqualTo(401);
                assertThat(noToken.json().path("error").asText()).isNotEmpty();
                assertThat(AgentHttp.post(dashboard.url(), "/api/handover", body, "wrong").status()).isEqualTo(401);
                AgentHttp.Response refused = AgentHttp.post(readOnly.url(), "/api/handover", body, TOKEN);
                assertThat(refused.status()).isEqualTo(403);
                assertThat(refused.body()).contains("read-only").doesNotContain(TOKEN);
                AgentHttp.Response unknown = AgentHttp.post(dashboard.url(), "/api/handover", "{\"to\":\"agent-99\"}", TOKEN);
                assertThat(unknown.status()).isEqualTo(400);
                assertThat(unknown.body()).contains("agent-99").doesNotContain(TOKEN);

                AgentHttp.Response accepted = AgentHttp.post(dashboard.url(), "/api/handover", body, TOKEN);
                assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
                long handedAt = System.nanoTime();
                await(target + " leads on the dashboard", Duration.ofSeconds(20),
                        () -> {
                            JsonNode now = cluster(dashboard.url());
                            return now != null && target.equals(now.path("leader").asText());
                        });
                System.out.printf("DashboardApiIT %s: handover to %s accepted to the dashboard showing it leading: %d ms%n",
                        mode, target, (System.nanoTime() - handedAt) / 1_000_000);

                JsonNode history = AgentHttp.get(dashboard.url(), "/api/history").json();
                List<String> leaders = history.path("leadership").findValuesAsText("leader");
                assertThat(leaders).containsSubsequence(leader.id(), newLeader, target);
                assertThat(history.path("agents").size()).isEqualTo(3);
                // one sample per agent a second: wait until the history has grown past a few of them
                await("the history to hold more than 3 samples of an agent", Duration.ofSeconds(15), () -> {
                    JsonNode h = historyOf(dashboard.url());
                    int longest = 0;
                    for (JsonNode a : h.path("agents")) {
                        longest = Math.max(longest, a.path("t").size());
                    }
                    return longest > 3;
                });
                assertThat(dashboard.log() + readOnly.log()).doesNotContain(TOKEN);
            }
        } finally {
            DashboardItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private static JsonNode historyOf(String dashboardUrl) {
        try {
            return AgentHttp.get(dashboardUrl, "/api/history").json();
        } catch (Exception e) {
            return JSON_MISSING;
        }
    }

    private static final JsonNode JSON_MISSING = com.fasterxml.jackson.databind.node.MissingNode.getInstance();

    private static boolean allReachable(JsonNode cluster) {
        for (JsonNode a : cluster.path("agents")) {
            if (!a.path("reachable").asBoolean()) {
                return false;
            }
        }
        return true;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
