package io.pgrelay.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.pgrelay.common.tls.TestCa;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentJar;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.Directories;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Renders every kustomize overlay of {@code k8s/} with {@code kubectl kustomize} and checks what
 * can be checked without a cluster: well-formed objects with no unknown fields (for the kinds we
 * use), references that resolve, the probes and ports against a real agent's routes, the metric
 * names of the PrometheusRule and of the Grafana dashboard against a real agent's {@code /metrics},
 * every alert rule against its promtool unit tests, the security settings, and each overlay's
 * pgrelay.yaml against the agent's own config validation. {@link PrometheusAlertsIT} runs the
 * rules in a real Prometheus.
 */
@ExtendWith(SandboxExtension.class)
class ManifestsIT {

    private static final ObjectMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = ShippedMonitoring.ROOT;

    private static final Map<String, String> API_VERSIONS = Map.of(
            "StatefulSet", "apps/v1", "Deployment", "apps/v1", "Service", "v1", "ConfigMap", "v1",
            "PodDisruptionBudget", "policy/v1", "ServiceMonitor", "monitoring.coreos.com/v1",
            "PrometheusRule", "monitoring.coreos.com/v1");

    private static Map<String, List<ObjectNode>> rendered;

    @BeforeAll
    static void render() throws Exception {
        rendered = new LinkedHashMap<>();
        for (String dir : List.of("overlays/slot", "overlays/zookeeper", "monitoring")) {
            rendered.put(dir, kustomize(dir));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"overlays/slot", "overlays/zookeeper", "monitoring"})
    void everyObjectIsWellFormedAndHasNoUnknownField(String dir) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode o : rendered.get(dir)) {
            String kind = o.path("kind").asText();
            String where = kind + "/" + o.path("metadata").path("name").asText();
            if (!API_VERSIONS.containsKey(kind)) {
                problems.add(where + ": kind not expected here");
                continue;
            }
            if (!API_VERSIONS.get(kind).equals(o.path("apiVersion").asText())) {
                problems.add(where + ": apiVersion " + o.path("apiVersion").asText() + ", expected " + API_VERSIONS.get(kind));
            }
            if (!o.path("metadata").path("name").asText().matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")) {
                problems.add(where + ": metadata.name is not a DNS label");
            }
            Schema.check(kind, o, where, problems);
        }
        assertThat(problems).as("problems in " + dir).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"overlays/slot", "overlays/zookeeper"})
    void referencesResolveAndSelectorsMatch(String dir) {
        List<ObjectNode> objects = rendered.get(dir);
        ObjectNode sts = one(objects, "StatefulSet", "pgrelay-agent");
        JsonNode podLabels = sts.at("/spec/template/metadata/labels");
        assertThat(matches(sts.at("/spec/selector/matchLabels"), podLabels)).as("StatefulSet selector").isTrue();
        assertThat(sts.at("/spec/replicas").asInt()).isEqualTo(3);

        ObjectNode headless = one(objects, "Service", sts.at("/spec/serviceName").asText());
        assertThat(headless.at("/spec/clusterIP").asText()).as("serviceName names a headless Service").isEqualTo("None");
        for (ObjectNode svc : all(objects, "Service")) {
            boolean selectsSomething = objects.stream().filter(o -> o.has("spec") && o.at("/spec/template/metadata/labels").isObject())
                    .anyMatch(w -> matches(svc.at("/spec/selector"), w.at("/spec/template/metadata/labels")));
            assertThat(selectsSomething).as("Service " + svc.at("/metadata/name").asText() + " selects pods").isTrue();
            for (JsonNode port : svc.at("/spec/ports")) {
                assertThat(containerPortNames(objects, svc.at("/spec/selector"))).as("targetPort of " + svc.at("/metadata/name"))
                        .contains(port.path("targetPort").asText());
            }
        }
        ObjectNode pdb = one(objects, "PodDisruptionBudget", "pgrelay-agent");
        assertThat(pdb.at("/spec/maxUnavailable").asInt()).isEqualTo(1);
        assertThat(matches(pdb.at("/spec/selector/matchLabels"), podLabels)).as("PDB selects the agents").isTrue();

        String configMap = sts.at("/spec/template/spec/volumes").findValues("configMap").get(0).path("name").asText();
        assertThat(objects).as("the ConfigMap the agents mount (name with kustomize's hash)")
                .anyMatch(o -> o.path("kind").asText().equals("ConfigMap") && o.at("/metadata/name").asText().equals(configMap));
        assertThat(all(objects, "Secret")).as("secrets are referenced, never shipped").isEmpty();
        for (ObjectNode workload : List.of(sts, one(objects, "Deployment", "pgrelay-dashboard"))) {
            for (JsonNode env : workload.at("/spec/template/spec/containers/0/env")) {
                if (env.path("name").asText().matches("PGRELAY_(PG_PASSWORD|ADMIN_TOKEN)")) {
                    assertThat(env.has("value")).as(env.path("name") + " as a literal value").isFalse();
                    assertThat(env.at("/valueFrom/secretKeyRef/name").asText()).isEqualTo("pgrelay-secrets");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"overlays/slot", "overlays/zookeeper"})
    void podsRunLockedDown(String dir) {
        for (String kind : List.of("StatefulSet", "Deployment")) {
            for (ObjectNode w : all(rendered.get(dir), kind)) {
                String where = kind + "/" + w.at("/metadata/name").asText();
                JsonNode pod = w.at("/spec/template/spec");
                assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).as(where + " runAsNonRoot").isTrue();
                assertThat(pod.at("/securityContext/runAsUser").asInt()).as(where + " runAsUser").isPositive();
                assertThat(pod.at("/automountServiceAccountToken").asBoolean(true)).as(where + " service account token").isFalse();
                for (JsonNode c : pod.path("containers")) {
                    JsonNode sc = c.path("securityContext");
                    assertThat(sc.path("allowPrivilegeEscalation").asBoolean(true)).as(where + " allowPrivilegeEscalation").isFalse();
                    assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).as(where + " readOnlyRootFilesystem").isTrue();
                    assertThat(sc.at("/capabilities/drop").toString()).as(where + " capabilities dropped").contains("\"ALL\"");
                    String tmpVolume = null;
                    for (JsonNode m : c.path("volumeMounts")) {
                        if (m.path("mountPath").asText().equals("/tmp")) {
                            tmpVolume = m.path("name").asText();
                        }
                    }
                    assertThat(tmpVolume).as(where + " has a writable /tmp").isNotNull();
                    String tmp = tmpVolume;
                    assertThat(pod.path("volumes")).as(where + " /tmp is an emptyDir")
                            .anyMatch(v -> v.path("name").asText().equals(tmp) && v.has("emptyDir"));
                    for (String r : List.of("/requests/cpu", "/requests/memory", "/limits/cpu", "/limits/memory")) {
                        assertThat(c.path("resources").at(r).asText()).as(where + " resources" + r).isNotEmpty();
                    }
                    String javaOptions = "";
                    for (JsonNode env : c.path("env")) {
                        if (env.path("name").asText().equals("JAVA_TOOL_OPTIONS")) {
                            javaOptions = env.path("value").asText();
                        }
                    }
                    assertThat(javaOptions).as(where + " heap sized from the memory limit").contains("-XX:MaxRAMPercentage=");
                }
            }
        }
        ObjectNode sts = one(rendered.get(dir), "StatefulSet", "pgrelay-agent");
        assertThat(sts.at("/spec/template/spec/affinity/podAntiAffinity").isObject()).as("pod anti-affinity").isTrue();
    }

    /** The agents' config in each overlay passes the agent's own validation (exit 2 would mean it does not). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"overlays/slot", "overlays/zookeeper"})
    void configMapIsAValidAgentConfig(String dir) throws Exception {
        ObjectNode cm = all(rendered.get(dir), "ConfigMap").get(0);
        String yaml = cm.at("/data/pgrelay.yaml").asText();
        JsonNode config = YAML.readTree(yaml);
        assertThat(config.at("/agent/http").asText()).as("listens beyond loopback in a pod").isEqualTo("0.0.0.0:8081");
        assertThat(config.at("/coordination/mode").asText()).isEqualTo(dir.substring(dir.indexOf('/') + 1));
        assertThat(yaml).contains("${PGRELAY_PG_PASSWORD}").contains("${PGRELAY_ADMIN_TOKEN}").contains("${HOSTNAME}");

        assertThat(config.at("/agent/tls/cert").asText()).as("the agents serve HTTPS").isEqualTo("/etc/pgrelay-tls/tls.crt");
        Path file = Files.createTempFile("manifests-it-", ".yaml");
        // the certificate the Secret pgrelay-tls would mount, made here (check reads it and its key)
        try (TestCa ca = TestCa.create("manifests-it")) {
            TestCa.Issued issued = ca.server("agent", "pgrelay-agent", "pgrelay-agent", "*.pgrelay-agent-headless");
            Files.writeString(file, yaml.replace("/etc/pgrelay-tls/tls.crt", issued.cert().toString())
                    .replace("/etc/pgrelay-tls/tls.key", issued.key().toString()));
            ProcessBuilder pb = new ProcessBuilder(java(), "-jar", AgentJar.path().toString(), "check", "--config", file.toString())
                    .redirectErrorStream(true);
            pb.environment().put("HOSTNAME", "pgrelay-agent-0");
            pb.environment().put("PGRELAY_PG_PASSWORD", "not-the-real-password");
            pb.environment().put("PGRELAY_ADMIN_TOKEN", "not-the-real-token");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            // The servers named in the example do not exist here: exit 1 (checks failed), not 2 (bad config).
            assertThat(out).as(out).contains("config: " + file + " is valid");
            assertThat(p.exitValue()).as(out).isNotEqualTo(2);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Probe paths and ports of the manifests, asked of a real agent; the metrics of the alert rules
     * and of the Grafana dashboard, found in its scrape. The agent runs an initial snapshot, so that
     * the snapshot metrics (which appear with a snapshot) are there to find.
     */
    @Test
    void probesAndTheMetricsOfAlertsAndDashboardMatchARealAgent() throws Exception {
        ObjectNode sts = one(rendered.get("overlays/slot"), "StatefulSet", "pgrelay-agent");
        JsonNode container = sts.at("/spec/template/spec/containers/0");
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/ready");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/health");
        int containerPort = -1;
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals("http")) {
                containerPort = p.path("containerPort").asInt();
            }
        }
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(container.path(probe).at("/httpGet/port").asText()).as(probe + " port").isEqualTo("http");
            assertThat(container.path(probe).at("/httpGet/scheme").asText()).as(probe + " scheme (agent.tls)").isEqualTo("HTTPS");
        }
        ObjectNode dashboardDeployment = one(rendered.get("overlays/slot"), "Deployment", "pgrelay-dashboard");
        String dashboardArgs = dashboardDeployment.at("/spec/template/spec/containers/0/args").toString();
        assertThat(dashboardArgs).as("the dashboard reaches the agents over HTTPS, trusting their CA")
                .contains("https://pgrelay-agent-0.").doesNotContain("http://").contains("--agent-ca");
        String configYaml = all(rendered.get("overlays/slot"), "ConfigMap").get(0).at("/data/pgrelay.yaml").asText();
        assertThat(YAML.readTree(configYaml).at("/agent/http").asText()).endsWith(":" + containerPort);

        ObjectNode monitor = one(rendered.get("monitoring"), "ServiceMonitor", "pgrelay-agent");
        ObjectNode metricsService = all(rendered.get("overlays/slot"), "Service").stream()
                .filter(s -> matches(monitor.at("/spec/selector/matchLabels"), s.at("/metadata/labels"))).findFirst()
                .orElseThrow(() -> new AssertionError("the ServiceMonitor selects no Service"));
        assertThat(metricsService.at("/spec/ports/0/name").asText()).isEqualTo(monitor.at("/spec/endpoints/0/port").asText());
        assertThat(metricsService.at("/spec/clusterIP").asText()).as("one metrics Service, not the headless one").isNotEqualTo("None");
        String metricsPath = monitor.at("/spec/endpoints/0/path").asText();

        Sandbox sandbox = Sandbox.shared();
        String table = "public.manifests_it";
        LoadGenerator load = new LoadGenerator(sandbox.postgres().connections(), table);
        load.createTable();
        load.write(20, 10, 1);
        AgentConfigs configs = new AgentConfigs(sandbox, "manifests").tables(table).snapshot("initial", 10);
        try (Cluster cluster = Cluster.start(configs, 1)) {
            String url = cluster.awaitLeader(60_000).url();
            load.write(20, 10, 1);
            assertThat(AgentHttp.get(url, "/health").status()).as("GET /health").isEqualTo(200);
            long deadline = System.currentTimeMillis() + 30_000;
            while (AgentHttp.get(url, "/ready").status() != 200 && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            assertThat(AgentHttp.get(url, "/ready").status()).as("GET /ready of a streaming leader").isEqualTo(200);
            String scrape = AgentHttp.get(url, metricsPath).body();
            while (!(scrape.contains("pgrelay_events_total") && scrape.contains("pgrelay_snapshot_rows_total"))
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
                scrape = AgentHttp.get(url, metricsPath).body();
            }
            Set<String> exposed = new TreeSet<>();
            for (String line : scrape.split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    exposed.add(line.split("[{ ]", 2)[0]);
                }
            }
            Set<String> inRules = new TreeSet<>();
            ObjectNode rule = one(rendered.get("monitoring"), "PrometheusRule", "pgrelay");
            for (JsonNode group : rule.at("/spec/groups")) {
                for (JsonNode r : group.path("rules")) {
                    inRules.addAll(ShippedMonitoring.metricNames(r.path("expr").asText()));
                }
            }
            assertThat(inRules).as("metrics the alert rules use").isNotEmpty();
            Set<String> notExposed = new TreeSet<>(inRules);
            notExposed.removeAll(exposed);
            assertThat(notExposed).as("metrics named in k8s/monitoring/prometheusrule.yaml but not in a real agent's "
                    + metricsPath + " (it exposes " + exposed + ")").isEmpty();

            Set<String> inDashboard = new TreeSet<>();
            JsonNode dashboard = ShippedMonitoring.grafanaDashboard();
            for (String query : ShippedMonitoring.dashboardQueries(dashboard)) {
                inDashboard.addAll(ShippedMonitoring.metricNames(query));
            }
            for (String query : ShippedMonitoring.dashboardVariableQueries(dashboard)) {
                inDashboard.addAll(ShippedMonitoring.metricNames(query));
            }
            assertThat(inDashboard).as("metrics the dashboard uses").isNotEmpty();
            notExposed = new TreeSet<>(inDashboard);
            notExposed.removeAll(exposed);
            assertThat(notExposed).as("metrics named in k8s/monitoring/grafana-dashboard.json but not in a real agent's "
                    + metricsPath + " (it exposes " + exposed + ")").isEmpty();
        } finally {
            sandbox.postgres().execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name = '" + configs.slot() + "' AND NOT active");
        }
    }

    /**
     * The shipped rules pass {@code promtool check rules}, and {@code promtool test rules} with
     * {@code k8s/monitoring/tests/rules-test.yaml} — which has, for every alert, a case where it
     * fires and one where it stays silent (checked here, so a new rule comes with its tests).
     */
    @Test
    void everyAlertRulePassesItsUnitTestsInPromtool() throws Exception {
        ObjectNode rule = one(rendered.get("monitoring"), "PrometheusRule", "pgrelay");
        Path tests = ShippedMonitoring.DIR.resolve("tests/rules-test.yaml");
        JsonNode testFile = YAML.readTree(tests.toFile());
        assertThat(testFile.path("rule_files").toString()).as("rule_files of " + tests).isEqualTo("[\"rules.yaml\"]");
        Map<String, Set<String>> cases = new TreeMap<>();
        for (JsonNode test : testFile.path("tests")) {
            for (JsonNode t : test.path("alert_rule_test")) {
                cases.computeIfAbsent(t.path("alertname").asText(), k -> new TreeSet<>())
                        .add(t.path("exp_alerts").isEmpty() ? "silent" : "fires");
            }
        }
        Set<String> shipped = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (JsonNode group : rule.at("/spec/groups")) {
            for (JsonNode r : group.path("rules")) {
                String alert = r.path("alert").asText();
                shipped.add(alert);
                Set<String> kinds = cases.getOrDefault(alert, Set.of());
                if (!kinds.containsAll(List.of("fires", "silent"))) {
                    problems.add(alert + " has " + (kinds.isEmpty() ? "no case" : "cases that are only " + kinds));
                }
            }
        }
        Set<String> unknown = new TreeSet<>(cases.keySet());
        unknown.removeAll(shipped);
        assertThat(problems).as("alerts without a firing and a silent case in " + tests).isEmpty();
        assertThat(unknown).as("alerts tested in " + tests + " but not shipped").isEmpty();

        Path dir = Files.createTempDirectory("promtool-");
        try {
            Files.writeString(dir.resolve("rules.yaml"), ShippedMonitoring.rulesFile(rule));
            Files.copy(tests, dir.resolve("rules-test.yaml"));
            String check = run(dir, ShippedMonitoring.promtool(), "check", "rules", "rules.yaml");
            assertThat(check).as("promtool check rules").startsWith("0\n").contains("SUCCESS: " + shipped.size() + " rules found");
            String test = run(dir, ShippedMonitoring.promtool(), "test", "rules", "rules-test.yaml");
            System.out.printf("ManifestsIT: promtool test rules, %d cases over %d alerts:%n%s", testFile.path("tests").size(),
                    shipped.size(), test.substring(test.indexOf('\n') + 1));
            assertThat(test).as("promtool test rules").startsWith("0\n").contains("SUCCESS");
        } finally {
            Directories.deleteRecursively(dir);
        }
    }

    /**
     * The Grafana dashboard: in its ConfigMap as Grafana's sidecar finds it, each panel asking for
     * the cluster chosen at the top, and the panels an operator needs — slot lag in bytes and
     * seconds, the leader, events/s, changes of leader, snapshot progress, a missing slot.
     */
    @Test
    void grafanaDashboardShipsInItsConfigMapWithThePanelsAnOperatorNeeds() throws Exception {
        JsonNode dashboard = ShippedMonitoring.grafanaDashboard();
        ObjectNode cm = one(rendered.get("monitoring"), "ConfigMap", "pgrelay-grafana-dashboard");
        assertThat(cm.at("/metadata/labels/grafana_dashboard").asText()).as("the label Grafana's sidecar watches").isEqualTo("1");
        assertThat(JSON.readTree(cm.at("/data/pgrelay.json").asText())).as("the ConfigMap holds grafana-dashboard.json").isEqualTo(dashboard);
        assertThat(dashboard.path("uid").asText()).isEqualTo("pgrelay");

        Set<Integer> ids = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            if (!ids.add(panel.path("id").asInt())) {
                problems.add("panel id " + panel.path("id") + " twice");
            }
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText();
                for (String metric : ShippedMonitoring.metricNames(expr)) {
                    if (!expr.contains(metric + "{cluster=\"$cluster\"}")) {
                        problems.add(panel.path("title").asText() + ": " + metric + " not limited to $cluster in " + expr);
                    }
                }
                if (!target.at("/datasource/uid").asText().equals("${datasource}")) {
                    problems.add(panel.path("title").asText() + ": datasource " + target.path("datasource") + ", not ${datasource}");
                }
            }
        }
        assertThat(problems).isEmpty();
        Set<String> used = new TreeSet<>();
        ShippedMonitoring.dashboardQueries(dashboard).forEach(q -> used.addAll(ShippedMonitoring.metricNames(q)));
        assertThat(used).contains("pgrelay_slot_lag_bytes", "pgrelay_replication_lag_seconds", "pgrelay_leader",
                "pgrelay_events_total", "pgrelay_leadership_changes_total", "pgrelay_snapshot_rows_total",
                "pgrelay_snapshot_rows_estimated", "pgrelay_slot_missing");
    }

    /** Exit status, a newline, then what the command printed. */
    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command) + " finished").isTrue();
        return p.exitValue() + "\n" + out;
    }

    /**
     * operations.md's table of alert rules shows each shipped rule with its expression, {@code for}
     * and severity as shipped; deploy.md's table names the same rules.
     */
    @Test
    void theDocsNameTheShippedAlertRulesAsTheFileDoes() throws IOException {
        Map<String, JsonNode> shipped = new LinkedHashMap<>();
        for (JsonNode r : one(rendered.get("monitoring"), "PrometheusRule", "pgrelay").at("/spec/groups/0/rules")) {
            shipped.put(r.path("alert").asText(), r);
        }
        String operations = Files.readString(ROOT.resolve("docs/operations.md"));
        int section = operations.indexOf("## Prometheus alert rules");
        assertThat(section).as("docs/operations.md has a section \"## Prometheus alert rules\"").isNotNegative();
        String rules = operations.substring(section, operations.indexOf("\n## ", section + 1));
        // | `PgrelayNoLeader` | `sum by (namespace, cluster) (pgrelay_leader) == 0` | 1m | critical | … (\| is a | in a table)
        Matcher row = Pattern.compile("^\\| `(Pgrelay[A-Za-z]+)` \\| `([^`]+)` \\| ([^ |]+) \\| ([a-z]+) \\|", Pattern.MULTILINE)
                .matcher(rules);
        Set<String> inOperations = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        while (row.find()) {
            String alert = row.group(1);
            inOperations.add(alert);
            JsonNode same = shipped.get(alert);
            if (same == null) {
                problems.add("docs/operations.md lists " + alert + ", which is not shipped");
                continue;
            }
            String where = "docs/operations.md " + alert + ": ";
            String expr = row.group(2).replace("\\|", "|");
            if (!expr.equals(same.path("expr").asText().trim())) {
                problems.add(where + "expr " + expr + ", shipped " + same.path("expr").asText());
            }
            String shippedFor = same.path("for").asText("—");
            if (!row.group(3).equals(shippedFor.isEmpty() ? "—" : shippedFor)) {
                problems.add(where + "for " + row.group(3) + ", shipped " + shippedFor);
            }
            if (!row.group(4).equals(same.at("/labels/severity").asText())) {
                problems.add(where + "severity " + row.group(4) + ", shipped " + same.at("/labels/severity").asText());
            }
        }
        assertThat(inOperations).as("alerts in docs/operations.md's table").isEqualTo(new TreeSet<>(shipped.keySet()));
        Set<String> inDeploy = new TreeSet<>();
        Matcher m = Pattern.compile("^\\| `(Pgrelay[A-Za-z]+)` \\|", Pattern.MULTILINE).matcher(Files.readString(ROOT.resolve("docs/deploy.md")));
        while (m.find()) {
            inDeploy.add(m.group(1));
        }
        assertThat(inDeploy).as("alerts in docs/deploy.md's Monitoring table").isEqualTo(new TreeSet<>(shipped.keySet()));
        assertThat(problems).isEmpty();
    }

    // --- rendering and lookups

    private static List<ObjectNode> kustomize(String dir) throws IOException, InterruptedException {
        Path err = Files.createTempFile("kustomize-", ".err");
        try {
            Process p = new ProcessBuilder(kubectl(), "kustomize", ROOT.resolve("k8s").resolve(dir).toString())
                    .redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("kubectl kustomize k8s/" + dir + " failed: " + Files.readString(err));
            }
            List<ObjectNode> objects = new ArrayList<>();
            Iterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(new YAMLFactory().createParser(out));
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    assertThat(doc.isObject()).as("a document of k8s/" + dir + " is not an object: " + doc).isTrue();
                    objects.add((ObjectNode) doc);
                }
            }
            assertThat(objects).as("objects rendered from k8s/" + dir).isNotEmpty();
            return objects;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** {@code -Dpgrelay.kubectl}, {@code $KUBECTL}, else {@code kubectl} on the PATH (./scripts/test installs it). */
    private static String kubectl() {
        return ShippedMonitoring.tool("kubectl", "kubernetes-client");
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static List<ObjectNode> all(List<ObjectNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    private static ObjectNode one(List<ObjectNode> objects, String kind, String name) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind) && o.at("/metadata/name").asText().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " rendered"));
    }

    /** Every label the selector asks for is on the object. */
    private static boolean matches(JsonNode selector, JsonNode labels) {
        if (!selector.isObject() || selector.isEmpty()) {
            return false;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = selector.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
                return false;
            }
        }
        return true;
    }

    private static Set<String> containerPortNames(List<ObjectNode> objects, JsonNode selector) {
        Set<String> names = new TreeSet<>();
        for (ObjectNode w : objects) {
            if (w.at("/spec/template/metadata/labels").isObject() && matches(selector, w.at("/spec/template/metadata/labels"))) {
                for (JsonNode c : w.at("/spec/template/spec/containers")) {
                    for (JsonNode p : c.path("ports")) {
                        names.add(p.path("name").asText());
                    }
                }
            }
        }
        return names;
    }
}
