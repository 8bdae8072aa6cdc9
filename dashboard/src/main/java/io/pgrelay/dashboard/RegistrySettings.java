package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgrelay.common.EnvSubstitution;
import io.pgrelay.common.tls.Pem;
import io.pgrelay.coordination.ZooKeeperAuth;
import io.pgrelay.coordination.ZooKeeperTls;

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
 * name and where its member registry lives. Read with the agent's own {@code ${ENV}} and
 * {@code ${ENV:-default}} substitution ({@link EnvSubstitution}); every other key is ignored, so the
 * agent's own file can be given as is — an unset variable is a problem only in a key read here.
 * {@link #toString()} never shows the password.
 *
 * @param mode             {@code slot} (registry table in PostgreSQL) or {@code zookeeper}
 * @param pollInterval     {@code coordination.pollInterval}: sets how old a slot-mode heartbeat may be
 * @param zookeeperAuth    {@code coordination.zookeeper.auth}, or null: the agents' SASL user, whom alone their ACLs let read the registry
 * @param zookeeperTls     {@code coordination.zookeeper.tls}, or null: TLS to ZooKeeper, as the agents
 */
public record RegistrySettings(String cluster, String mode, String postgresUrl, String postgresUser,
                               String postgresPassword, String zookeeperConnect, Duration pollInterval,
                               ZooKeeperAuth zookeeperAuth, ZooKeeperTls zookeeperTls) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

    /** Reads {@code file}; throws {@link IllegalArgumentException} listing every problem, one a line. */
    public static RegistrySettings read(Path file, Function<String, String> env) throws IOException {
        String raw = Files.readString(file, StandardCharsets.UTF_8);
        List<String> problems = new ArrayList<>();
        JsonNode root = YAML.readTree(EnvSubstitution.substitute(raw, env));
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": not a YAML mapping");
        }
        String cluster = text(root, "cluster", problems);
        if (cluster == null || cluster.isBlank()) {
            problems.add("cluster: required");
        }
        String mode = text(root, "coordination.mode", problems);
        mode = mode == null ? "slot" : mode;
        Duration poll = Duration.ofMillis(500);
        String pollText = text(root, "coordination.pollInterval", problems);
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
        String url = text(root, "postgres.url", problems);
        String user = text(root, "postgres.user", problems);
        String password = text(root, "postgres.password", problems);
        String connect = text(root, "coordination.zookeeper.connect", problems);
        String zkUser = text(root, "coordination.zookeeper.auth.username", problems);
        String zkPassword = text(root, "coordination.zookeeper.auth.password", problems);
        ZooKeeperAuth zkAuth = null;
        if (zkUser != null || zkPassword != null) {
            if (zkUser == null || zkUser.isBlank() || zkPassword == null || zkPassword.isEmpty()) {
                problems.add("coordination.zookeeper.auth: username and password are both required");
            } else {
                zkAuth = new ZooKeeperAuth(zkUser, zkPassword);
            }
        }
        String zkCa = text(root, "coordination.zookeeper.tls.ca", problems);
        ZooKeeperTls zkTls = null;
        if (zkCa != null) {
            try {
                Pem.certificates(Path.of(zkCa.strip()));
                zkTls = new ZooKeeperTls(Path.of(zkCa.strip()));
            } catch (IllegalArgumentException e) {
                problems.add("coordination.zookeeper.tls.ca: " + e.getMessage());
            }
        } else if (root.path("coordination").path("zookeeper").has("tls")) {
            problems.add("coordination.zookeeper.tls.ca: required: the CA (PEM) that signed the ZooKeeper servers' certificates");
        }
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
        return new RegistrySettings(cluster, mode, url, user, password == null ? "" : password, connect, poll, zkAuth, zkTls);
    }

    /** The text at a dotted key path, or null; a value built from an unset variable or an unreadable file is a problem. */
    private static String text(JsonNode root, String path, List<String> problems) {
        JsonNode n = root;
        for (String key : path.split("\\.")) {
            n = n.path(key);
        }
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        String unresolved = EnvSubstitution.problemIn(n.asText());
        if (unresolved != null) {
            problems.add(path + ": " + unresolved);
            return null;
        }
        return n.asText();
    }

    /** Where members are read from, for logs: the JDBC URL without its query (which may hold a password). */
    public String registryDescription() {
        if ("zookeeper".equals(mode)) {
            return "ZooKeeper " + zookeeperConnect + " /pgrelay/" + cluster + "/members" + (zookeeperTls == null ? "" : " over TLS")
                    + (zookeeperAuth == null ? "" : " as " + zookeeperAuth.username());
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
