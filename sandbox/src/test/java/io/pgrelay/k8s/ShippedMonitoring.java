package io.pgrelay.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code k8s/monitoring/} ships, as the tests read it: the PrometheusRule, the plain rules
 * file Prometheus and promtool load (the rule's {@code spec}), the Grafana dashboard's queries;
 * and where the command-line tools the tests run are.
 */
final class ShippedMonitoring {

    static final Path ROOT = repositoryRoot();
    static final Path DIR = ROOT.resolve("k8s/monitoring");
    private static final ObjectMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern METRIC = Pattern.compile("\\bpgrelay_[a-z0-9_]+");

    private ShippedMonitoring() {
    }

    static ObjectNode prometheusRule() {
        return (ObjectNode) read(YAML, DIR.resolve("prometheusrule.yaml"));
    }

    /** The PrometheusRule's {@code spec} — {@code groups:} — as the rules file Prometheus and promtool load. */
    static String rulesFile(JsonNode prometheusRule) {
        try {
            return YAML.writeValueAsString(prometheusRule.get("spec"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode grafanaDashboard() {
        return read(JSON, DIR.resolve("grafana-dashboard.json"));
    }

    /** The PromQL of every panel's targets (rows' nested panels too), in panel order. */
    static List<String> dashboardQueries(JsonNode dashboard) {
        List<String> queries = new ArrayList<>();
        collectQueries(dashboard.path("panels"), queries);
        return queries;
    }

    private static void collectQueries(JsonNode panels, List<String> into) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                if (target.hasNonNull("expr")) {
                    into.add(target.get("expr").asText());
                }
            }
            collectQueries(panel.path("panels"), into);
        }
    }

    /** The queries of the dashboard's template variables (Grafana's {@code label_values(…)}, not PromQL). */
    static List<String> dashboardVariableQueries(JsonNode dashboard) {
        List<String> queries = new ArrayList<>();
        for (JsonNode variable : dashboard.at("/templating/list")) {
            if (variable.path("type").asText().equals("query")) {
                JsonNode q = variable.path("query");
                queries.add(q.isObject() ? q.path("query").asText() : q.asText());
            }
        }
        return queries;
    }

    /** The {@code pgrelay_*} names in a query. */
    static Set<String> metricNames(String query) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(query);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    /** {@code -Dpgrelay.promtool}, {@code $PROMTOOL}, else {@code promtool} on the PATH (./scripts/test installs it). */
    static String promtool() {
        return tool("promtool", "prometheus");
    }

    /** {@code -Dpgrelay.<name>}, {@code $<NAME>}, else {@code <name>} on the PATH; fails naming the Debian package. */
    static String tool(String name, String debianPackage) {
        String configured = System.getProperty("pgrelay." + name, System.getenv(name.toUpperCase(Locale.ROOT)));
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        throw new AssertionError(name + " not found on the PATH: install Debian's " + debianPackage + " (./scripts/test does)");
    }

    private static JsonNode read(ObjectMapper mapper, Path file) {
        try {
            return mapper.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ROOT.relativize(file), e);
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("k8s"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no k8s/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
