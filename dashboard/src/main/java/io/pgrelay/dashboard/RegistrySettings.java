package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the dashboard needs from an agent's YAML config to find the cluster's members: the cluster
 * name and where its member registry lives. Read with the same {@code ${ENV}} and
 * {@code ${ENV:-default}} substitution as the agent; every other key is ignored, so the agent's
 * own file can be given as is. {@link #toString()} never shows the password.
 *
 * @param mode             {@code slot} (registry table in PostgreSQL) or {@code zookeeper}
 * @param pollInterval     {@code coordination.pollInterval}: sets how old a slot-mode heartbeat may be
 */
public record RegistrySettings(String cluster, String mode, String postgresUrl, String postgresUser,
                               String postgresPassword, String zookeeperConnect, Duration pollInterval) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern REFERENCE = Pattern.compile("\\$\\$\\{|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

    /** Reads {@code file}; throws {@link IllegalArgumentException} listing every problem, one a line. */
    public static RegistrySettings read(Path file, Function<String, String> env) throws IOException {
        String raw = Files.readString(file, StandardCharsets.UTF_8);
        List<String> problems = new ArrayList<>();
        JsonNode root = YAML.readTree(substitute(raw, env, problems));
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": not a YAML mapping");
        }
        String cluster = text(root.path("cluster"));
        if (cluster == null || cluster.isBlank()) {
            problems.add("cluster: required");
        }
        JsonNode coordination = root.path("coordination");
        String mode = text(coordination.path("mode"));
        mode = mode == null ? "slot" : mode;
        Duration poll = Duration.ofMillis(500);
        String pollText = text(coordination.path("pollInterval"));
        if (pollText != null) {
            Matcher m = DURATION.matcher(pollText.trim());
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                poll = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
            } else {
                problems.add("coordination.pollInterval: '" + pollText + "' is not a duration like 500ms or 2s");
            }
        }
        JsonNode postgres = root.path("postgres");
        String url = text(postgres.path("url"));
        String user = text(postgres.path("user"));
        String password = text(postgres.path("password"));
        String connect = text(coordination.path("zookeeper").path("connect"));
        switch (mode) {
            case "slot" -> {
                if (url == null || !url.startsWith("jdbc:postgresql:")) {
                    problems.add("postgres.url: required in slot mode, a jdbc:postgresql: URL (the member registry lives there)");
                }
            }
            case "zookeeper" -> {
                if (connect == null || connect.isBlank()) {
                    problems.add("coordination.zookeeper.connect: required in zookeeper mode");
                }
            }
            default -> problems.add("coordination.mode: '" + mode + "' is not one of slot, zookeeper");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("\n", problems));
        }
        return new RegistrySettings(cluster, mode, url, user, password == null ? "" : password, connect, poll);
    }

    /** Shell-like: the default applies when the variable is unset or empty; {@code $${} is a literal {@code ${}. */
    static String substitute(String raw, Function<String, String> env, List<String> problems) {
        Matcher m = REFERENCE.matcher(raw);
        StringBuilder out = new StringBuilder(raw.length());
        while (m.find()) {
            String replacement;
            if (m.group().equals("$${")) {
                replacement = "${";
            } else {
                String value = env.apply(m.group(1));
                String fallback = m.group(2);
                if (value != null && !(value.isEmpty() && fallback != null)) {
                    replacement = value;
                } else if (fallback != null) {
                    replacement = fallback;
                } else {
                    // only a problem if the dashboard needs that key; an unset HOSTNAME in agent.id is not
                    replacement = "";
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String text(JsonNode n) {
        return n == null || n.isMissingNode() || n.isNull() ? null : n.asText();
    }

    /** Where members are read from, for logs: the JDBC URL without its query (which may hold a password). */
    public String registryDescription() {
        if ("zookeeper".equals(mode)) {
            return "ZooKeeper " + zookeeperConnect + " /pgrelay/" + cluster + "/members";
        }
        int q = postgresUrl.indexOf('?');
        return "PostgreSQL " + (q < 0 ? postgresUrl : postgresUrl.substring(0, q)) + " table pgrelay.members"
                + (postgresUser == null ? "" : " as " + postgresUser);
    }

    @Override
    public String toString() {
        return "RegistrySettings" + Map.of("cluster", cluster, "registry", registryDescription());
    }
}
