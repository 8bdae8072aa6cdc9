package io.pgrelay.agent.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.TableId;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Renders a configuration back to YAML, in the file's own keys and units, with every secret masked. */
final class EffectiveConfig {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    private EffectiveConfig() {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static String render(PgRelayConfig c) {
        return write(YAML, tree(c));
    }

    /** The same on one line (JSON, which YAML also reads), for a log line. */
    static String renderOneLine(PgRelayConfig c) {
        return write(JSON, tree(c));
    }

    private static Map<String, Object> tree(PgRelayConfig c) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("cluster", c.cluster());

        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("id", c.agent().id());
        agent.put("http", c.agent().http().toString());
        agent.put("adminToken", c.agent().adminToken().masked());
        if (c.agent().tls().enabled()) {
            agent.put("tls", Map.of("cert", c.agent().tls().cert().toString(), "key", c.agent().tls().key().toString()));
        }
        Map<String, Object> tokens = new LinkedHashMap<>();
        tokens.put("admin", c.agent().tokens().admin().stream().map(Secret::masked).toList());
        tokens.put("read", c.agent().tokens().read().stream().map(Secret::masked).toList());
        agent.put("tokens", tokens);
        agent.put("protectReads", c.agent().protectReads());
        root.put("agent", agent);

        PostgresConfig pg = c.postgres();
        Map<String, Object> postgres = new LinkedHashMap<>();
        postgres.put("url", pg.maskedUrl());
        postgres.put("user", pg.user());
        postgres.put("password", pg.password().masked());
        postgres.put("slot", pg.slot());
        postgres.put("publication", pg.publication());
        List<String> tables = new ArrayList<>();
        pg.tables().forEach(t -> tables.add(t.quoted()));
        postgres.put("tables", tables);
        postgres.put("statusInterval", Units.formatDuration(pg.statusInterval()));
        postgres.put("connectTimeout", Units.formatDuration(pg.connectTimeout()));
        if (pg.tls().configured()) {
            Map<String, Object> tls = new LinkedHashMap<>();
            tls.put("mode", pg.tls().mode().text());
            tls.putAll(pemFiles(pg.tls().ca(), pg.tls().cert(), pg.tls().key()));
            postgres.put("tls", tls);
        }
        root.put("postgres", postgres);

        KafkaConfig k = c.kafka();
        Map<String, Object> kafka = new LinkedHashMap<>();
        kafka.put("bootstrapServers", k.bootstrapServers());
        kafka.put("topicPrefix", k.topicPrefix());
        Map<String, String> topics = new TreeMap<>();
        k.topics().forEach((TableId t, String topic) -> topics.put(t.quoted(), topic));
        kafka.put("topics", topics);
        kafka.put("tombstones", k.tombstones());
        kafka.put("producer", Masking.producer(k.producerSettings()));
        kafka.put("partitions", k.partitions());
        kafka.put("checkpointTopic", k.checkpointTopic());
        kafka.put("onOversized", k.onOversized().name().toLowerCase());
        kafka.put("deadLetterTopic", k.deadLetterTopic());
        kafka.put("commitInterval", Units.formatDuration(k.commitInterval()));
        kafka.put("commitMaxBytes", Units.formatSize(k.commitMaxBytes()));
        kafka.put("format", k.formats().format().configName());
        kafka.put("serialization", k.formats().serialization().configName());
        if (k.formats().format() == FormatConfig.Format.DEBEZIUM) {
            FormatConfig.Debezium d = k.formats().debezium();
            Map<String, Object> debezium = new LinkedHashMap<>();
            debezium.put("decimalHandlingMode", d.decimalHandlingMode().name().toLowerCase());
            debezium.put("timePrecisionMode", d.timePrecisionMode().name().toLowerCase());
            debezium.put("binaryHandlingMode", d.binaryHandlingMode().name().toLowerCase());
            debezium.put("unavailableValuePlaceholder", d.unavailableValuePlaceholder());
            debezium.put("truncates", d.truncates());
            debezium.put("sourceVersion", d.sourceVersion());
            kafka.put("debezium", debezium);
        }
        FormatConfig.SchemaRegistry registry = k.formats().schemaRegistry();
        if (registry.url() != null) {
            Map<String, Object> schemaRegistry = new LinkedHashMap<>();
            schemaRegistry.put("url", Masking.url(registry.url()));
            schemaRegistry.put("username", registry.username());
            schemaRegistry.put("password", registry.password().masked());
            schemaRegistry.put("retryTimeout", Units.formatDuration(registry.retryTimeout()));
            FormatConfig.SchemaRegistry.Tls tls = registry.tls();
            if (tls.isSet()) {
                schemaRegistry.put("tls", pemFiles(tls.ca(), tls.cert(), tls.key()));
            }
            kafka.put("schemaRegistry", schemaRegistry);
        }
        KafkaSecurity sec = k.security();
        if (sec.configured()) {
            Map<String, Object> security = new LinkedHashMap<>();
            security.put("protocol", sec.protocol().name());
            if (sec.protocol().sasl()) {
                Map<String, Object> sasl = new LinkedHashMap<>();
                sasl.put("mechanism", sec.mechanism() == null ? null : sec.mechanism().text());
                sasl.put("username", sec.username());
                sasl.put("password", sec.password().masked());
                security.put("sasl", sasl);
            }
            if (sec.protocol().tls()) {
                security.put("tls", pemFiles(sec.ca(), sec.cert(), sec.key()));
            }
            kafka.put("security", security);
        }
        root.put("kafka", kafka);

        CoordinationConfig co = c.coordination();
        Map<String, Object> coordination = new LinkedHashMap<>();
        coordination.put("mode", co.mode().name().toLowerCase());
        Map<String, Object> zk = new LinkedHashMap<>();
        zk.put("connect", co.zookeeper().connect());
        zk.put("sessionTimeout", Units.formatDuration(co.zookeeper().sessionTimeout()));
        if (co.zookeeper().authenticates()) {
            Map<String, Object> auth = new LinkedHashMap<>();
            auth.put("username", co.zookeeper().username());
            auth.put("password", co.zookeeper().password().masked());
            zk.put("auth", auth);
        }
        if (co.zookeeper().tls()) {
            zk.put("tls", Map.of("ca", co.zookeeper().tlsCa().toString()));
        }
        coordination.put("zookeeper", zk);
        coordination.put("pollInterval", Units.formatDuration(co.pollInterval()));
        coordination.put("hangTimeout", Units.formatDuration(co.hangTimeout()));
        root.put("coordination", coordination);

        Map<String, Object> snapshot = new LinkedHashMap<>();
        snapshot.put("mode", c.snapshot().mode().name().toLowerCase());
        snapshot.put("chunkSize", c.snapshot().chunkSize());
        root.put("snapshot", snapshot);

        root.put("heartbeat", Map.of("interval", c.heartbeat().enabled() ? Units.formatDuration(c.heartbeat().interval()) : "off"));

        AlertsConfig a = c.alerts();
        Map<String, Object> alerts = new LinkedHashMap<>();
        alerts.put("lagBytesWarning", Units.formatSize(a.lagBytesWarning()));
        alerts.put("lagBytesCritical", Units.formatSize(a.lagBytesCritical()));
        alerts.put("lagSeconds", Units.formatDuration(a.lagSeconds()));
        alerts.put("slotInactiveFor", Units.formatDuration(a.slotInactiveFor()));
        alerts.put("noLeaderFor", Units.formatDuration(a.noLeaderFor()));
        Map<String, Object> webhook = new LinkedHashMap<>();
        webhook.put("url", a.webhook().url().masked());
        webhook.put("timeout", Units.formatDuration(a.webhook().timeout()));
        webhook.put("retries", a.webhook().retries());
        webhook.put("backoff", Units.formatDuration(a.webhook().backoff()));
        alerts.put("webhook", webhook);
        root.put("alerts", alerts);
        return root;
    }

    /** A TLS section's PEM files, {@code ca}, {@code cert} and {@code key}, each a path or null. */
    private static Map<String, Object> pemFiles(java.nio.file.Path ca, java.nio.file.Path cert, java.nio.file.Path key) {
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("ca", ca == null ? null : ca.toString());
        files.put("cert", cert == null ? null : cert.toString());
        files.put("key", key == null ? null : key.toString());
        return files;
    }

    private static String write(ObjectMapper mapper, Map<String, Object> root) {
        try {
            return mapper.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
