package io.pgrelay.agent.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.pgrelay.agent.config.ConfigNode.Entry;
import io.pgrelay.agent.config.ConfigNode.Problems;
import io.pgrelay.agent.config.CoordinationConfig.Mode;
import io.pgrelay.agent.config.KafkaConfig.OnOversized;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.route.TopicNames;
import io.pgrelay.common.EnvSubstitution;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration: substitutes {@code ${ENV}}, parses, applies defaults and validates
 * in one pass that collects every problem. The file's keys and their defaults are documented in
 * {@code docs/configuration.md}; keep the two in step.
 */
public final class ConfigLoader {

    private static final ObjectMapper YAML = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
    private static final Pattern CLUSTER = Pattern.compile("[a-zA-Z0-9._-]+");
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._-]{1,100}");
    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]+");
    private static final int MAX_IDENTIFIER_BYTES = 63; // PostgreSQL's NAMEDATALEN - 1; longer names are cut silently

    private final Function<String, String> env;
    private final Supplier<String> hostName;

    public ConfigLoader(Function<String, String> env, Supplier<String> hostName) {
        this.env = env;
        this.hostName = hostName;
    }

    /** Loads a file with the process environment. */
    public static PgRelayConfig load(Path file) {
        return new ConfigLoader(System::getenv, ConfigLoader::localHostName).read(file);
    }

    public PgRelayConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), List.of(new Problem(file.toString(), "no such file")));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of(new Problem(file.toString(), "cannot read: " + e.getMessage())));
        }
        return parse(text, file.toString());
    }

    /** Parses configuration text; {@code source} names it in the summary of a {@link ConfigException}. */
    public PgRelayConfig parse(String text, String source) {
        JsonNode tree;
        try {
            tree = YAML.readTree(EnvSubstitution.substitute(text, env));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": ";
            throw new ConfigException(source, List.of(new Problem(source, "not valid YAML: " + where + e.getOriginalMessage())));
        }
        Problems problems = new Problems();
        PgRelayConfig config = read(ConfigNode.root(tree, problems), problems);
        if (!problems.list().isEmpty()) {
            throw new ConfigException(source, problems.list());
        }
        return config;
    }

    private PgRelayConfig read(ConfigNode root, Problems problems) {
        String cluster = root.requiredString("cluster");
        if (cluster != null && !CLUSTER.matcher(cluster).matches()) {
            root.problem("cluster", "'" + cluster + "' may hold only letters, digits, '.', '_' and '-' (it names Kafka ids)");
        }
        // Names derived from an invalid cluster would only repeat its problem.
        String name = cluster == null || !CLUSTER.matcher(cluster).matches() ? "pgrelay" : cluster;
        AgentConfig agent = agent(root.section("agent"));
        Map<TableId, String> tablePaths = new LinkedHashMap<>();
        PostgresConfig postgres = postgres(root.section("postgres"), name, tablePaths);
        KafkaConfig kafka = kafka(root.section("kafka"), name, postgres, tablePaths);
        CoordinationConfig coordination = coordination(root.section("coordination"));
        HeartbeatConfig heartbeat = heartbeat(root.section("heartbeat"));
        AlertsConfig alerts = alerts(root.section("alerts"));
        SnapshotConfig snapshot = snapshot(root.section("snapshot"));
        root.reportUnknownKeys();
        return new PgRelayConfig(cluster, agent, postgres, kafka, coordination, heartbeat, alerts, snapshot);
    }

    private AgentConfig agent(ConfigNode s) {
        String id = s.string("id").orElseGet(hostName);
        if (!AGENT_ID.matcher(id).matches()) {
            s.problem("id", "'" + id + "' may hold only letters, digits, '.', '_' and '-', 1 to 100 of them (it names the agent"
                    + " in the election, /status and the dashboard)" + (s.string("id").isEmpty() ? "; it defaults to the host name: set agent.id" : ""));
        }
        HostPort http = s.string("http").map(v -> hostPort(s, "http", v)).orElse(AgentConfig.DEFAULT_HTTP);
        Secret token = s.secret("adminToken");
        HttpTls tls = SecuritySections.httpTls(s);
        AgentConfig.Tokens tokens = SecuritySections.tokens(s, token);
        boolean protectReads = SecuritySections.protectReads(s, token, tokens);
        boolean warmUp = s.bool("warmUp", false);
        s.reportUnknownKeys();
        return new AgentConfig(id, http == null ? AgentConfig.DEFAULT_HTTP : http, token, tls, tokens, protectReads, warmUp);
    }

    private PostgresConfig postgres(ConfigNode s, String cluster, Map<TableId, String> tablePaths) {
        String url = s.requiredString("url");
        if (url != null && !url.startsWith("jdbc:postgresql:")) {
            s.problem("url", "'" + Masking.jdbcUrl(url) + "' is not a PostgreSQL JDBC URL (jdbc:postgresql://host:5432/database)");
        }
        String user = s.requiredString("user");
        Secret password = s.secret("password");
        String defaultName = "pgrelay_" + cluster.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        String slot = s.string("slot", defaultName);
        if (!SLOT.matcher(slot).matches()) {
            s.problem("slot", "'" + slot + "' may hold only lower-case letters, digits and '_' (PostgreSQL's rule for slot names)");
        } else {
            checkIdentifierLength(s, "slot", slot);
        }
        String publication = s.string("publication", defaultName);
        checkIdentifierLength(s, "publication", publication);
        List<TableId> tables = new ArrayList<>();
        for (Entry e : s.stringList("tables")) {
            TableId t = table(s, e);
            if (t != null && tables.contains(t)) {
                s.problemAtPath(e.path(), "table " + t + " is listed twice");
            } else if (t != null) {
                tables.add(t);
                tablePaths.put(t, e.path());
            }
        }
        Duration status = s.duration("statusInterval", PostgresConfig.DEFAULT_STATUS_INTERVAL);
        Duration connect = s.duration("connectTimeout", PostgresConfig.DEFAULT_CONNECT_TIMEOUT);
        PostgresTls tls = SecuritySections.postgresTls(s, url);
        s.reportUnknownKeys();
        return new PostgresConfig(url, user, password, slot, publication, tables, status, connect, tls);
    }

    private KafkaConfig kafka(ConfigNode s, String cluster, PostgresConfig postgres, Map<TableId, String> tablePaths) {
        String bootstrap = s.requiredString("bootstrapServers");
        if (bootstrap != null) {
            for (String server : bootstrap.split(",", -1)) {
                if (hostPort(s, "bootstrapServers", server) == null) {
                    break;
                }
            }
        }
        String prefix = s.string("topicPrefix", cluster);
        Map<TableId, String> topics = new LinkedHashMap<>();
        Map<TableId, String> paths = new LinkedHashMap<>(tablePaths); // a mapped table's problems belong to its mapping
        for (Map.Entry<String, Entry> mapping : s.stringMap("topics").entrySet()) {
            Entry e = mapping.getValue();
            TableId t = table(s, new Entry(e.path(), mapping.getKey()));
            String reason = TopicNames.invalidReason(e.value());
            if (reason != null) {
                s.problemAtPath(e.path(), reason);
            } else if (t != null && !postgres.allTables() && !postgres.tables().contains(t)) {
                s.problemAtPath(e.path(), "table " + t + " is not in postgres.tables, so nothing would be written to " + e.value());
            } else if (t != null) {
                topics.put(t, e.value());
                paths.put(t, e.path());
            }
        }
        boolean tombstones = s.bool("tombstones", true);
        KafkaSecurity security = KafkaSecuritySection.read(s);
        Map<String, String> producer = new LinkedHashMap<>();
        KafkaSecuritySection.check(s, s.stringMap("producer"), security.configured(), producer);
        int partitions = s.integer("partitions", 1, 1);
        String checkpoints = topicName(s, "checkpointTopic", "_pgrelay." + cluster + ".checkpoints");
        OnOversized onOversized = s.choice("onOversized", OnOversized.class, OnOversized.FAIL);
        String deadLetter = topicName(s, "deadLetterTopic", "_pgrelay." + cluster + ".dead-letter");
        Duration commitInterval = s.duration("commitInterval", KafkaConfig.DEFAULT_COMMIT_INTERVAL);
        long commitMaxBytes = s.size("commitMaxBytes", KafkaConfig.DEFAULT_COMMIT_MAX_BYTES);
        String schemaTopic = topicName(s, "schemaTopic", prefix + "._schema");
        long maxTransactionBytes = s.size("maxTransactionBytes", KafkaConfig.DEFAULT_MAX_TRANSACTION_BYTES);
        boolean transactionEvents = s.bool("transactionEvents", false);
        FormatConfig formats = formats(s);
        s.reportUnknownKeys();
        KafkaConfig kafka = new KafkaConfig(bootstrap, prefix, topics, tombstones, producer, partitions, checkpoints,
                onOversized, deadLetter, commitInterval, commitMaxBytes, schemaTopic, maxTransactionBytes, transactionEvents,
                formats, security);
        TopicCollisions.report(kafka, postgres, paths, s::problemAtPath);
        return kafka;
    }

    /** {@code kafka.format}, {@code kafka.serialization} and {@code kafka.debezium}; see docs/formats.md. */
    private FormatConfig formats(ConfigNode kafka) {
        FormatConfig.Format format = kafka.choice("format", FormatConfig.Format.class, FormatConfig.Format::configName,
                FormatConfig.Format.PGRELAY);
        FormatConfig.Serialization serialization = kafka.choice("serialization", FormatConfig.Serialization.class,
                FormatConfig.Serialization::configName, FormatConfig.Serialization.JSON);
        if (serialization != FormatConfig.Serialization.JSON && format == FormatConfig.Format.PGRELAY) {
            kafka.problem("serialization", serialization.configName() + " writes Kafka Connect schemas, which only format:"
                    + " debezium has; use serialization: json with format: pgrelay");
        }
        FormatConfig.SchemaRegistry registry = schemaRegistry(kafka, serialization);
        ConfigNode d = kafka.section("debezium");
        FormatConfig.Debezium defaults = FormatConfig.Debezium.DEFAULT;
        FormatConfig.DecimalMode decimal = d.choice("decimalHandlingMode", FormatConfig.DecimalMode.class,
                defaults.decimalHandlingMode());
        FormatConfig.TimePrecisionMode time = d.choice("timePrecisionMode", FormatConfig.TimePrecisionMode.class,
                defaults.timePrecisionMode());
        FormatConfig.BinaryMode binary = d.choice("binaryHandlingMode", FormatConfig.BinaryMode.class,
                defaults.binaryHandlingMode());
        String placeholder = d.string("unavailableValuePlaceholder", defaults.unavailableValuePlaceholder());
        boolean truncates = d.bool("truncates", defaults.truncates());
        String version = d.string("sourceVersion", defaults.sourceVersion());
        d.reportUnknownKeys();
        if (format == FormatConfig.Format.PGRELAY && kafka.has("debezium")) {
            kafka.problem("debezium", "applies to format: debezium only; set kafka.format: debezium or remove it");
        }
        return new FormatConfig(format, serialization, new FormatConfig.Debezium(decimal, time, binary, placeholder, truncates, version),
                registry);
    }

    /** {@code kafka.schemaRegistry}: required by serialization avro, refused with the others. */
    private static FormatConfig.SchemaRegistry schemaRegistry(ConfigNode kafka, FormatConfig.Serialization serialization) {
        boolean avro = serialization == FormatConfig.Serialization.AVRO;
        if (!avro && kafka.has("schemaRegistry")) {
            kafka.problem("schemaRegistry", "applies to serialization: avro only; set kafka.serialization: avro or remove it");
        }
        ConfigNode r = kafka.section("schemaRegistry");
        String url = r.string("url").orElse(null);
        if (avro && url == null) {
            r.problem("url", "required by serialization: avro (the schema registry's base URL, e.g. http://registry:8081)");
        }
        if (url != null && !url.matches("(?i)https?://[^\\s/]+(/[^\\s]*)?")) {
            r.problem("url", "'" + Masking.url(url) + "' is not an http:// or https:// URL");
        }
        String username = r.string("username").orElse(null);
        Secret password = r.secret("password");
        if (username == null && !password.isEmpty()) {
            r.problem("password", "set without kafka.schemaRegistry.username; basic auth needs both");
        }
        Duration retryTimeout = r.duration("retryTimeout", FormatConfig.SchemaRegistry.DEFAULT_RETRY_TIMEOUT);
        FormatConfig.SchemaRegistry.Tls tls = SecuritySections.registryTls(r, url);
        r.reportUnknownKeys();
        return avro ? new FormatConfig.SchemaRegistry(url == null ? null : url.replaceAll("/+$", ""), username, password,
                retryTimeout, tls) : FormatConfig.SchemaRegistry.NONE;
    }

    private CoordinationConfig coordination(ConfigNode s) {
        Mode mode = s.choice("mode", Mode.class, Mode.SLOT);
        ConfigNode zk = s.section("zookeeper");
        String connect = mode == Mode.ZOOKEEPER ? zk.requiredString("connect") : zk.string("connect").orElse(null);
        Duration session = zk.duration("sessionTimeout", CoordinationConfig.Zookeeper.DEFAULT_SESSION_TIMEOUT);
        String zkUser = null;
        Secret zkPassword = Secret.EMPTY;
        if (zk.has("auth")) {
            ConfigNode auth = zk.section("auth");
            zkUser = auth.requiredString("username");
            zkPassword = auth.secret("password");
            if (zkPassword.isEmpty()) {
                auth.problem("password", "required: the SASL (DIGEST-MD5) password of " + (zkUser == null ? "the user" : zkUser));
            }
            auth.reportUnknownKeys();
        } else {
            zk.section("auth");
        }
        Path zkCa = SecuritySections.zookeeperTls(zk);
        zk.reportUnknownKeys();
        Duration poll = s.duration("pollInterval", CoordinationConfig.DEFAULT_POLL_INTERVAL);
        Duration hang = s.duration("hangTimeout", CoordinationConfig.DEFAULT_HANG_TIMEOUT);
        if (hang.compareTo(poll) <= 0) {
            s.problem("hangTimeout", Units.formatDuration(hang) + " must be longer than coordination.pollInterval ("
                    + Units.formatDuration(poll) + ")");
        }
        s.reportUnknownKeys();
        return new CoordinationConfig(mode, new CoordinationConfig.Zookeeper(connect, session, zkUser, zkPassword, zkCa), poll, hang);
    }

    private HeartbeatConfig heartbeat(ConfigNode s) {
        Duration interval = s.durationOrOff("interval", HeartbeatConfig.DEFAULT_INTERVAL);
        s.reportUnknownKeys();
        return new HeartbeatConfig(interval);
    }

    private SnapshotConfig snapshot(ConfigNode s) {
        SnapshotConfig.Mode mode = s.choice("mode", SnapshotConfig.Mode.class, SnapshotConfig.Mode.INITIAL);
        int chunkSize = s.integer("chunkSize", SnapshotConfig.DEFAULT_CHUNK_SIZE, 1);
        if (chunkSize > SnapshotConfig.MAX_CHUNK_SIZE) {
            s.problem("chunkSize", chunkSize + " is more than " + SnapshotConfig.MAX_CHUNK_SIZE
                    + " rows; a chunk's rows are held in memory until its high watermark");
        }
        s.reportUnknownKeys();
        return new SnapshotConfig(mode, chunkSize);
    }

    private AlertsConfig alerts(ConfigNode s) {
        long warning = s.size("lagBytesWarning", AlertsConfig.DEFAULT_LAG_BYTES_WARNING);
        long critical = s.size("lagBytesCritical", AlertsConfig.DEFAULT_LAG_BYTES_CRITICAL);
        if (critical < warning) {
            s.problem("lagBytesCritical", Units.formatSize(critical) + " must not be below alerts.lagBytesWarning ("
                    + Units.formatSize(warning) + ")");
        }
        Duration lagSeconds = s.duration("lagSeconds", AlertsConfig.DEFAULT_LAG_SECONDS);
        Duration inactive = s.duration("slotInactiveFor", AlertsConfig.DEFAULT_SLOT_INACTIVE_FOR);
        Duration noLeader = s.duration("noLeaderFor", AlertsConfig.DEFAULT_NO_LEADER_FOR);
        ConfigNode w = s.section("webhook");
        Secret url = w.secret("url");
        if (!url.isEmpty() && !url.reveal().matches("(?i)https?://[^\\s]+")) {
            w.problem("url", "'" + Masking.url(url.reveal()) + "' is not an http:// or https:// URL");
        }
        Duration timeout = w.duration("timeout", AlertsConfig.Webhook.DEFAULT_TIMEOUT);
        int retries = w.integer("retries", AlertsConfig.Webhook.DEFAULT_RETRIES, 0);
        Duration backoff = w.duration("backoff", AlertsConfig.Webhook.DEFAULT_BACKOFF);
        w.reportUnknownKeys();
        s.reportUnknownKeys();
        return new AlertsConfig(warning, critical, lagSeconds, inactive, noLeader,
                new AlertsConfig.Webhook(url, timeout, retries, backoff));
    }

    private static HostPort hostPort(ConfigNode s, String key, String text) {
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            s.problem(key, "'" + text.strip() + "' is not an address: " + e.getMessage());
            return null;
        }
    }

    private static TableId table(ConfigNode s, Entry e) {
        try {
            return TableId.parse(e.value());
        } catch (IllegalArgumentException ex) {
            s.problemAtPath(e.path(), "'" + e.value() + "' is not a table name: " + ex.getMessage());
            return null;
        }
    }

    private static String topicName(ConfigNode s, String key, String fallback) {
        String topic = s.string(key, fallback);
        String reason = TopicNames.invalidReason(topic);
        if (reason != null) {
            s.problem(key, reason);
        }
        return topic;
    }

    private static void checkIdentifierLength(ConfigNode s, String key, String name) {
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_IDENTIFIER_BYTES) {
            s.problem(key, "'" + name + "' is " + bytes + " bytes long; PostgreSQL allows " + MAX_IDENTIFIER_BYTES
                    + (s.has(key) ? "" : " (the default comes from cluster; set postgres." + key + ")"));
        }
    }

    static String localHostName() {
        String fromEnv = System.getenv("HOSTNAME");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
