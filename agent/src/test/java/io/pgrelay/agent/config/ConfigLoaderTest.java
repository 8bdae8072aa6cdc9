package io.pgrelay.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.pgrelay.agent.config.CoordinationConfig.Mode;
import io.pgrelay.agent.config.KafkaConfig.OnOversized;
import io.pgrelay.agent.core.TableId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    static final String DESIGN_EXAMPLE = """
            cluster: demo                      # required; names the lock, transactional.id, checkpoints
            agent:
              id: ${HOSTNAME}                  # unique per agent; default: host name
              http: 127.0.0.1:8081             # admin + metrics listener
              adminToken: ${PGRELAY_ADMIN_TOKEN:-}   # bearer token for /admin/*; empty = admin disabled
            postgres:
              url: jdbc:postgresql://127.0.0.1:5432/app
              user: replicator
              password: ${PGRELAY_PG_PASSWORD:-}
              slot: pgrelay_demo
              publication: pgrelay_demo
              tables: [public.orders, '"Odd"\".Schema"."T 1"']   # SQL names, quoted as PostgreSQL needs; [] = ALL TABLES
            kafka:
              bootstrapServers: 127.0.0.1:9092
              topicPrefix: demo                # default topic: <topicPrefix>.<schema>.<table>
              topics: { public.orders: orders.v1 }        # explicit mapping wins
              tombstones: true                 # a null-value record after each delete (log compaction)
              producer: { compression.type: lz4 }         # passed through to kafka-clients
            coordination:
              mode: slot                       # slot | zookeeper
              zookeeper: { connect: 127.0.0.1:2181, sessionTimeout: 3s }
            """;

    static final String MINIMAL = """
            cluster: demo
            postgres: { url: 'jdbc:postgresql://db:5432/app', user: replicator }
            kafka: { bootstrapServers: 'k1:9092,k2:9092' }
            """;

    private static PgRelayConfig parse(String yaml, Map<String, String> env) {
        return new ConfigLoader(env::get, () -> "host-1").parse(yaml, "config.yaml");
    }

    private static List<String> problems(String yaml) {
        return catchThrowableOfType(ConfigException.class, () -> parse(yaml, Map.of())).problems().stream()
                .map(Problem::toString).toList();
    }

    @Test
    void designExampleParses() {
        PgRelayConfig c = parse(DESIGN_EXAMPLE, Map.of("HOSTNAME", "agent-1", "PGRELAY_PG_PASSWORD", "s3cret"));

        assertThat(c.cluster()).isEqualTo("demo");
        assertThat(c.agent().id()).isEqualTo("agent-1");
        assertThat(c.agent().http()).isEqualTo(new HostPort("127.0.0.1", 8081));
        assertThat(c.agent().adminEnabled()).isFalse();
        assertThat(c.postgres().password().reveal()).isEqualTo("s3cret");
        assertThat(c.postgres().tables()).containsExactly(new TableId("public", "orders"), new TableId("Odd\".Schema", "T 1"));
        assertThat(c.kafka().topics()).containsExactly(Map.entry(new TableId("public", "orders"), "orders.v1"));
        assertThat(c.kafka().producer()).containsExactly(Map.entry("compression.type", "lz4"));
        assertThat(c.kafka().topicNames().topicFor(new TableId("Odd\".Schema", "T 1"))).isEqualTo("demo.Odd_.Schema.T_1");
        assertThat(c.coordination().mode()).isEqualTo(Mode.SLOT);
        assertThat(c.coordination().zookeeper().connect()).isEqualTo("127.0.0.1:2181");
        assertThat(c.coordination().zookeeper().sessionTimeout()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void examplesOfTheConfigurationDocParse() throws Exception {
        String doc = Files.readString(Path.of("../docs/configuration.md"));
        List<String> blocks = java.util.regex.Pattern.compile("```yaml\n(.*?)```", java.util.regex.Pattern.DOTALL)
                .matcher(doc).results().map(m -> m.group(1)).toList();

        assertThat(blocks).hasSize(2);
        PgRelayConfig full = parse(blocks.get(0), Map.of("HOSTNAME", "a-1", "PGRELAY_PG_PASSWORD", "pw"));
        assertThat(full.coordination().zookeeper().connect()).isEqualTo("zk-1:2181,zk-2:2181,zk-3:2181/pgrelay");
        assertThat(full.kafka().partitions()).isEqualTo(6);
        assertThat(parse(blocks.get(1), Map.of()).postgres().allTables()).isTrue();
    }

    @Test
    void defaultsFillEveryOptionalKey() {
        PgRelayConfig c = parse(MINIMAL.replace("cluster: demo", "cluster: Shop-EU.1"), Map.of());

        assertThat(c.agent().id()).isEqualTo("host-1");
        assertThat(c.agent().http()).isEqualTo(AgentConfig.DEFAULT_HTTP);
        assertThat(c.postgres().slot()).isEqualTo("pgrelay_shop_eu_1");
        assertThat(c.postgres().publication()).isEqualTo("pgrelay_shop_eu_1");
        assertThat(c.postgres().allTables()).isTrue();
        assertThat(c.postgres().statusInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.postgres().connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        KafkaConfig k = c.kafka();
        assertThat(k.topicPrefix()).isEqualTo("Shop-EU.1");
        assertThat(k.tombstones()).isTrue();
        assertThat(k.partitions()).isEqualTo(1);
        assertThat(k.checkpointTopic()).isEqualTo("_pgrelay.Shop-EU.1.checkpoints");
        assertThat(k.deadLetterTopic()).isEqualTo("_pgrelay.Shop-EU.1.dead-letter");
        assertThat(k.schemaTopic()).isEqualTo("Shop-EU.1._schema");
        assertThat(k.onOversized()).isEqualTo(OnOversized.FAIL);
        assertThat(k.commitInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(k.commitMaxBytes()).isEqualTo(16L * 1024 * 1024);
        assertThat(c.coordination().mode()).isEqualTo(Mode.SLOT);
        assertThat(c.coordination().zookeeper().connect()).isNull();
        assertThat(c.coordination().pollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.coordination().hangTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.transactionalId()).isEqualTo("pgrelay-Shop-EU.1");
    }

    @Test
    void formatDefaultsToPgrelayJsonAndDebeziumSettingsAreRead() {
        String base = """
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka:
                  bootstrapServers: k1:9092
                """;
        assertThat(parse(base, Map.of()).kafka().formats()).isEqualTo(FormatConfig.DEFAULT);

        FormatConfig f = parse(base + """
                  format: debezium
                  serialization: json-schema
                  debezium: { decimalHandlingMode: string, timePrecisionMode: connect, binaryHandlingMode: hex,
                              unavailableValuePlaceholder: __toast, truncates: true }
                """, Map.of()).kafka().formats();
        assertThat(f.format()).isEqualTo(FormatConfig.Format.DEBEZIUM);
        assertThat(f.serialization()).isEqualTo(FormatConfig.Serialization.JSON_SCHEMA);
        assertThat(f.debezium()).isEqualTo(new FormatConfig.Debezium(FormatConfig.DecimalMode.STRING,
                FormatConfig.TimePrecisionMode.CONNECT, FormatConfig.BinaryMode.HEX, "__toast", true,
                FormatConfig.Debezium.DEFAULT_SOURCE_VERSION));
    }

    @Test
    void jsonSchemaCompressesWithLz4UnlessTheProducerSaysOtherwise() {
        String base = """
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka:
                  bootstrapServers: k1:9092
                """;
        assertThat(parse(base, Map.of()).kafka().producerSettings()).isEmpty();
        assertThat(parse(base + "  format: debezium\n", Map.of()).kafka().producerSettings()).isEmpty();
        assertThat(parse(base + "  format: debezium\n  serialization: json-schema\n  producer: { linger.ms: 20 }\n", Map.of())
                .kafka().producerSettings()).isEqualTo(Map.of("compression.type", "lz4", "linger.ms", "20"));
        assertThat(parse(base + "  format: debezium\n  serialization: json-schema\n  producer: { compression.type: none }\n", Map.of())
                .kafka().producerSettings()).isEqualTo(Map.of("compression.type", "none"));
    }

    @Test
    void unknownFormatsAndUnsupportedSerializationsAreReportedWithTheOtherProblems() {
        assertThat(problems("""
                cluster: demo
                postgres: { user: replicator }
                kafka:
                  bootstrapServers: k1:9092
                  format: canal
                  serialization: protobuf
                  debezium: { decimalHandlingMode: exact }
                """)).containsExactly(
                "postgres.url: required",
                "kafka.format: 'canal' is not one of pgrelay, debezium",
                "kafka.serialization: 'protobuf' is not one of json, json-schema, avro",
                "kafka.debezium.decimalHandlingMode: 'exact' is not one of precise, double, string",
                "kafka.debezium: applies to format: debezium only; set kafka.format: debezium or remove it");
        assertThat(problems("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka: { bootstrapServers: 'k1:9092', format: debezium, serialization: avro }
                """)).containsExactly("kafka.schemaRegistry.url: required by serialization: avro (the schema registry's"
                + " base URL, e.g. http://registry:8081)");
        assertThat(problems("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka: { bootstrapServers: 'k1:9092', serialization: avro, schemaRegistry: { url: 'http://r:8081' } }
                """)).containsExactly("kafka.serialization: avro writes Kafka Connect schemas, which only format: debezium"
                + " has; use serialization: json with format: pgrelay");
        assertThat(problems("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka: { bootstrapServers: 'k1:9092', serialization: json-schema }
                """)).containsExactly("kafka.serialization: json-schema writes Kafka Connect schemas, which only format: debezium"
                + " has; use serialization: json with format: pgrelay");
    }

    @Test
    void anAgentIdOutsideTheElectionsAlphabetIsAConfigErrorBeforeAnythingStarts() {
        assertThat(problems("""
                cluster: demo
                agent: { id: '<img src=x onerror=alert(1)>' }
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka: { bootstrapServers: 'k1:9092' }
                """)).containsExactly("agent.id: '<img src=x onerror=alert(1)>' may hold only letters, digits, '.', '_' and '-',"
                + " 1 to 100 of them (it names the agent in the election, /status and the dashboard)");
        assertThat(parse(MINIMAL + "agent: { id: pgrelay-0.eu_1 }\n", Map.of()).agent().id()).isEqualTo("pgrelay-0.eu_1");
    }

    @Test
    void avroReadsTheSchemaRegistryAndKeepsItsPasswordSecret() {
        FormatConfig f = parse("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka:
                  bootstrapServers: k1:9092
                  format: debezium
                  serialization: avro
                  schemaRegistry: { url: 'http://registry:8080/apis/ccompat/v7/', username: relay, password: '${REGISTRY_PASSWORD}' }
                """, Map.of("REGISTRY_PASSWORD", "s3cret")).kafka().formats();
        assertThat(f.serialization()).isEqualTo(FormatConfig.Serialization.AVRO);
        assertThat(f.schemaRegistry().url()).isEqualTo("http://registry:8080/apis/ccompat/v7");
        assertThat(f.schemaRegistry().username()).isEqualTo("relay");
        assertThat(f.schemaRegistry().password().reveal()).isEqualTo("s3cret");
        assertThat(f.schemaRegistry().toString()).doesNotContain("s3cret");
        assertThat(f.schemaRegistry().retryTimeout()).isEqualTo(java.time.Duration.ofMinutes(2));
        assertThat(parse("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka:
                  bootstrapServers: k1:9092
                  format: debezium
                  serialization: avro
                  schemaRegistry: { url: 'http://registry:8081', retryTimeout: 45s }
                """, Map.of()).kafka().formats().schemaRegistry().retryTimeout()).isEqualTo(java.time.Duration.ofSeconds(45));
    }

    @Test
    void anHttpsSchemaRegistryTakesACaAndAClientCertificateAndTlsOnPlainHttpIsAProblem(@TempDir Path dir) throws Exception {
        try (io.pgrelay.common.tls.TestCa ca = io.pgrelay.common.tls.TestCa.create("registry-ca")) {
            io.pgrelay.common.tls.TestCa.Issued client = ca.client("relay", "relay");
            FormatConfig.SchemaRegistry.Tls tls = parse(avroWith("url: 'https://registry:8081', tls: { ca: '%s', cert: '%s', key: '%s' }"
                    .formatted(ca.certificate(), client.cert(), client.key())), Map.of()).kafka().formats().schemaRegistry().tls();
            assertThat(tls).isEqualTo(new FormatConfig.SchemaRegistry.Tls(ca.certificate(), client.cert(), client.key()));
            assertThat(parse(avroWith("url: 'https://registry:8081'"), Map.of()).kafka().formats().schemaRegistry().tls())
                    .as("without the section: the JVM's trust store").isEqualTo(FormatConfig.SchemaRegistry.Tls.NONE);
            Path missing = dir.resolve("nowhere.pem");
            assertThat(problems(avroWith("url: 'http://registry:8081', tls: { ca: '%s', cert: '%s', pin: x }"
                    .formatted(missing, client.cert())))).containsExactly(
                    "kafka.schemaRegistry.tls: set for http://registry:8081, which is not an https:// URL; use https:// or remove tls",
                    "kafka.schemaRegistry.tls.ca: " + missing + ": no such file",
                    "kafka.schemaRegistry.tls.key: required with kafka.schemaRegistry.tls.cert: the client certificate's private key (PEM)",
                    "kafka.schemaRegistry.tls.pin: unknown key");
        }
    }

    /** A configuration with Debezium's envelope in avro and {@code registry} as the inside of {@code kafka.schemaRegistry: { … }}. */
    private static String avroWith(String registry) {
        return """
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka: { bootstrapServers: k1:9092, format: debezium, serialization: avro, schemaRegistry: { %s } }
                """.formatted(registry);
    }

    @Test
    void schemaRegistryMistakesAreReportedWithTheOthers() {
        assertThat(problems("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka:
                  bootstrapServers: k1:9092
                  format: debezium
                  serialization: avro
                  schemaRegistry: { url: 'registry:8081', password: x, subjects: record, retryTimeout: 0s }
                """)).containsExactly(
                "kafka.schemaRegistry.url: 'registry:8081' is not an http:// or https:// URL",
                "kafka.schemaRegistry.password: set without kafka.schemaRegistry.username; basic auth needs both",
                "kafka.schemaRegistry.retryTimeout: '0s' must be longer than 0",
                "kafka.schemaRegistry.subjects: unknown key");
        assertThat(problems("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://db/app', user: u }
                kafka:
                  bootstrapServers: k1:9092
                  format: debezium
                  serialization: json-schema
                  schemaRegistry: { url: 'http://r:8081' }
                """)).containsExactly(
                "kafka.schemaRegistry: applies to serialization: avro only; set kafka.serialization: avro or remove it");
    }

    @Test
    void threeMistakesYieldExactlyThreeProblemsEachAtItsPath() {
        String yaml = """
                cluster: demo
                postgres: { user: replicator }
                kafka:
                  bootstrapServers: k1:9092
                  commitInterval: 10 parsecs
                  tombstone: false
                """;

        assertThat(problems(yaml)).containsExactly(
                "postgres.url: required",
                "kafka.commitInterval: '10 parsecs' is not a duration (use 500ms, 3s, 2m)",
                "kafka.tombstone: unknown key (did you mean kafka.tombstones?)");
    }

    @Test
    void everyKindOfMistakeIsReportedInOnePass() {
        String yaml = """
                cluster: "demo cluster"
                agent: { http: localhost, adminTokn: x }
                postgres:
                  url: postgres://db/app
                  user: u
                  slot: Bad-Slot
                  tables: [public.orders, "a.b.c", public.a_b, 'public."a.b"']
                  statusInterval: 0s
                kafka:
                  bootstrapServers: 'k1:9092,k2'
                  topics: { public.nope: x, public.orders: 'bad topic' }
                  producer: { transactional.id: mine }
                  partitions: 0
                  onOversized: drop
                  commitMaxBytes: lots
                coordination: { mode: zookeeper, hangTimeout: 100ms }
                extra: 1
                """;

        assertThat(problems(yaml)).containsExactly(
                "cluster: 'demo cluster' may hold only letters, digits, '.', '_' and '-' (it names Kafka ids)",
                "agent.http: 'localhost' is not an address: expected host:port",
                "agent.adminTokn: unknown key (did you mean agent.adminToken?)",
                "postgres.url: 'postgres://db/app' is not a PostgreSQL JDBC URL (jdbc:postgresql://host:5432/database)",
                "postgres.slot: 'Bad-Slot' may hold only lower-case letters, digits and '_' (PostgreSQL's rule for slot names)",
                "postgres.tables[1]: 'a.b.c' is not a table name: too many dots in table name a.b.c; expected schema.table",
                "postgres.statusInterval: '0s' must be longer than 0",
                "kafka.bootstrapServers: 'k2' is not an address: expected host:port",
                "kafka.topics[public.nope]: table public.nope is not in postgres.tables, so nothing would be written to x",
                "kafka.topics[public.orders]: 'bad topic' is not a valid topic name (only letters, digits, '.', '_' and '-')",
                "kafka.producer[transactional.id]: set by pgrelay; remove it",
                "kafka.partitions: '0' must be at least 1",
                "kafka.onOversized: 'drop' is not one of fail, skip",
                "kafka.commitMaxBytes: 'lots' is not a size (use 16MB, 512KB or a number of bytes)",
                "postgres.tables[3]: table public.a_b and table public.a.b would write to topics pgrelay.public.a_b and"
                        + " pgrelay.public.a.b, which Kafka refuses side by side ('.' and '_' collide in its metric names);"
                        + " map one of them to another topic in kafka.topics",
                "coordination.zookeeper.connect: required",
                "coordination.hangTimeout: 100ms must be longer than coordination.pollInterval (500ms)",
                "extra: unknown key");
    }

    @Test
    void snapshotDefaultsToInitialAndBadValuesAreProblemsAtTheirKeys() {
        PgRelayConfig c = parse(MINIMAL, Map.of());
        assertThat(c.snapshot()).isEqualTo(new SnapshotConfig(SnapshotConfig.Mode.INITIAL, SnapshotConfig.DEFAULT_CHUNK_SIZE));
        assertThat(parse(MINIMAL + "snapshot: { mode: never, chunkSize: 500 }\n", Map.of()).snapshot())
                .isEqualTo(new SnapshotConfig(SnapshotConfig.Mode.NEVER, 500));
        assertThat(problems(MINIMAL + "snapshot: { mode: sometimes, chunkSize: 0, size: 3 }\n")).containsExactly(
                "snapshot.mode: 'sometimes' is not one of initial, never, always, when_needed",
                "snapshot.chunkSize: '0' must be at least 1",
                "snapshot.size: unknown key");
    }

    @Test
    void twoTablesOnOneTopicIsAnErrorNamingBoth() {
        String yaml = MINIMAL.replace("user: replicator }", "user: replicator, tables: [a_b.c, '\"a b\".c', x.y] }")
                .replace("bootstrapServers: 'k1:9092,k2:9092' }", "bootstrapServers: 'k:1', topics: { x.y: demo.a_b.c } }");

        assertThat(problems(yaml)).containsExactly(
                "postgres.tables[1]: table a_b.c and table a b.c would both write to topic demo.a_b.c;"
                        + " map one of them to another topic in kafka.topics",
                "kafka.topics[x.y]: table a_b.c and table x.y would both write to topic demo.a_b.c;"
                        + " map one of them to another topic in kafka.topics");
    }

    @Test
    void unsetVariableWithoutDefaultIsAProblemAtItsKey() {
        String yaml = MINIMAL + "agent: { id: '${AGENT_ID}', adminToken: '${TOKEN:-fallback}' }\n";

        assertThatThrownBy(() -> parse(yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("agent.id: environment variable AGENT_ID is not set (write ${AGENT_ID:-default} to give a default)\n"
                        + "1 problem in config.yaml");
    }

    @Test
    void variablesAreSubstitutedWithDefaultsAndEscapes() {
        String yaml = """
                cluster: ${CLUSTER}
                agent: { id: "${ID:-agent-9}", adminToken: "${TOKEN:-}" }
                postgres: { url: 'jdbc:postgresql://${PGHOST:-localhost}:5432/app', user: "$${NOT_A_VAR}" }
                kafka: { bootstrapServers: "${KAFKA}" }
                """;

        PgRelayConfig c = parse(yaml, Map.of("CLUSTER", "prod", "KAFKA", "k:9092", "ID", ""));

        assertThat(c.cluster()).isEqualTo("prod");
        assertThat(c.agent().id()).isEqualTo("agent-9"); // set but empty takes the default, as in a shell
        assertThat(c.agent().adminToken().isEmpty()).isTrue();
        assertThat(c.postgres().url()).isEqualTo("jdbc:postgresql://localhost:5432/app");
        assertThat(c.postgres().user()).isEqualTo("${NOT_A_VAR}");
        assertThat(c.kafka().bootstrapServers()).isEqualTo("k:9092");
    }

    @Test
    void secretsAreMaskedInDescriptionToStringAndJson() throws Exception {
        String yaml = MINIMAL.replace("'jdbc:postgresql://db:5432/app'", "'jdbc:postgresql://db:5432/app?password=urlpw&ssl=true'")
                + "agent: { adminToken: tok3n }\n"
                .concat("");
        String withSecrets = yaml.replace("user: replicator }", "user: replicator, password: pgpw }")
                .replace("bootstrapServers: 'k1:9092,k2:9092' }",
                        "bootstrapServers: 'k1:9092,k2:9092', producer: { sasl.jaas.config: 'x password=\"kpw\";', acks: all } }");
        PgRelayConfig c = parse(withSecrets, Map.of());

        String described = c.describeMasked();
        ObjectMapper json = new ObjectMapper().registerModule(new SimpleModule()
                .addSerializer(Duration.class, ToStringSerializer.instance).addKeySerializer(TableId.class, ToStringSerializer.instance));
        String all = described + c + c.describeMaskedOneLine() + json.writeValueAsString(c);
        assertThat(all).doesNotContain("urlpw", "tok3n", "pgpw", "kpw");
        assertThat(c.postgres().password()).hasToString("****");
        assertThat(json.writeValueAsString(c)).contains("\"password\":\"****\"", "password=****", "\"sasl.jaas.config\":\"****\"");
        assertThat(described)
                .contains("url: jdbc:postgresql://db:5432/app?password=****&ssl=true")
                .contains("password: '****'")
                .contains("adminToken: '****'")
                .contains("sasl.jaas.config: '****'")
                .contains("acks: all")
                .contains("commitMaxBytes: 16MB");
        assertThat(c.postgres().password().reveal()).isEqualTo("pgpw");
    }

    @Test
    void describedConfigReadsBackAsTheSameConfig() {
        PgRelayConfig c = parse(DESIGN_EXAMPLE, Map.of("HOSTNAME", "agent-1"));

        assertThat(parse(c.describeMasked(), Map.of())).isEqualTo(c);
        assertThat(parse(c.describeMaskedOneLine(), Map.of())).isEqualTo(c);
        assertThat(c.describeMaskedOneLine()).doesNotContain("\n");
    }

    @Test
    void yamlSyntaxErrorIsOneProblemWithItsLine() {
        assertThat(problems("cluster: demo\npostgres:\n  url: [unclosed\n"))
                .singleElement().asString().startsWith("config.yaml: not valid YAML: line ");
    }

    @Test
    void emptyFileReportsEachRequiredKey() {
        assertThat(problems("")).containsExactly("cluster: required", "postgres.url: required", "postgres.user: required",
                "kafka.bootstrapServers: required");
    }

    @Test
    void missingFileIsAProblem(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessageEndingWith("1 problem in " + missing);
    }

    @Test
    void loadReadsAFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("c.yaml"), MINIMAL);
        assertThat(ConfigLoader.load(file).cluster()).isEqualTo("demo");
    }
}
