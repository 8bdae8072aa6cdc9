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
import java.util.Locale;

/**
 * What {@code k8s/monitoring/} ships, as the tests read it: the PrometheusRule and the plain rules
 * file Prometheus and promtool load (the rule's {@code spec}); and where the command-line tools
 * the tests run are.
 */
final class ShippedMonitoring {

    static final Path ROOT = repositoryRoot();
    static final Path DIR = ROOT.resolve("k8s/monitoring");
    private static final ObjectMapper YAML = new YAMLMapper();

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
