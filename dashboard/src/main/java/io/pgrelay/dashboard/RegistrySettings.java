package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgrelay.common.EnvSubstitution;
import io.pgrelay.common.tls.Pem;
import io.pgrelay.common.tls.PemSslFactory;
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
import java.util.Properties;
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
 * @param postgresTls      {@code postgres.tls}, or null (not written): how the agents connect to
 *                         PostgreSQL, and so how the dashboard reads the slot-mode registry there
 */
public record RegistrySettings(String cluster, String mode, String postgresUrl, String postgresUser,
                               String postgresPassword, String zookeeperConnect, Duration pollInterval,
                               ZooKeeperAuth zookeeperAuth, ZooKeeperTls zookeeperTls, PostgresTls postgresTls) {

    private static final List<String> TLS_MODES = List.of("disable", "require", "verify-ca", "verify-full");

    /**
     * {@code postgres.tls} as the agents read it: {@code mode} (verify-full when the section is
     * written without one) and PEM files, applied to pgjdbc with pgrelay's {@link PemSslFactory}.
     */
    public record PostgresTls(String mode, Path ca, Path cert, Path key) {

        /** Sets pgjdbc's TLS properties for this configuration. */
        public void applyTo(Properties p) {
            p.setProperty("sslmode", mode);
            if (mode.equals("disable")) {
                return;
            }
            p.setProperty("sslfactory", PemSslFactory.class.getName());
            if (ca != null) {
                p.setProperty("sslrootcert", ca.toString());
            }
            if (cert != null) {
                p.setProperty("sslcert", cert.toString());
                p.setProperty("sslkey", key.toString());
            }
        }
    }

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
        PostgresTls pgTls = null;
        if (root.path("postgres").has("tls")) {
            String tlsMode = text(root, "postgres.tls.mode", problems);
            tlsMode = tlsMode == null ? "verify-full" : tlsMode.strip();
            if (!TLS_MODES.contains(tlsMode)) {
                problems.add("postgres.tls.mode: '" + tlsMode + "' is not one of " + String.join(", ", TLS_MODES));
            }
            Path ca = pemFile(root, "postgres.tls.ca", problems);
            Path cert = pemFile(root, "postgres.tls.cert", problems);
            Path key = pemFile(root, "postgres.tls.key", problems);
            if ((cert == null) != (key == null)) {
                problems.add("postgres.tls: cert and key go together: set both or neither");
            }
            pgTls = new PostgresTls(tlsMode, ca, cert, key);
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
        return new RegistrySettings(cluster, mode, url, user, password == null ? "" : password, connect, poll, zkAuth, zkTls,
                pgTls);
    }

    /** A file named at {@code path}, or null when the key is not there; a file that does not exist is a problem. */
    private static Path pemFile(JsonNode root, String path, List<String> problems) {
        String value = text(root, path, problems);
        if (value == null || value.isBlank()) {
            return null;
        }
        Path file = Path.of(value.strip());
        if (!Files.isReadable(file)) {
            problems.add(path + ": cannot read " + file);
            return null;
        }
        return file;
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
