package io.pgrelay.sandbox.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Debezium 3.6.1's embedded engine ({@code PostgresConnector}, {@code pgoutput}, JSON without
 * schemas) writing to Kafka as Debezium Server's Kafka sink does — send the batch with a plain
 * producer, wait for every ack, mark it finished — in its own JVM, built from the standalone
 * {@code sandbox/bench-debezium} project so its Kafka Connect classes never meet ours.
 *
 * <p>Done when a {@code read_committed} consumer has counted every row: Debezium confirms the slot
 * only when it flushes offsets ({@code offset.flush.interval.ms}) and then to the last event's LSN,
 * not the commit's end, so its {@code confirmed_flush_lsn} is not waited for.
 */
final class DebeziumEmbedded extends KafkaCandidate {

    static final String DEFAULT_JAR = "sandbox/bench-debezium/target/bench-debezium.jar";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The engine's settings beside the connection and names: the best we found for throughput and latency. */
    static final Map<String, String> ENGINE = settings(
            "plugin.name", "pgoutput",
            "snapshot.mode", "no_data",
            "publication.autocreate.mode", "disabled",
            "offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore",
            "offset.flush.interval.ms", "1000",
            "max.batch.size", "8192",
            "max.queue.size", "32768",
            "poll.interval.ms", "5",
            "converter.schemas.enable", "false");

    /** The sink's producer: acks=all and idempotence are Kafka's defaults, as Debezium Server's. */
    static final Map<String, String> PRODUCER = settings(
            "acks", "all",
            "linger.ms", "5",
            "batch.size", "262144",
            "compression.type", "none");


    private final Path jar;

    DebeziumEmbedded(Path jar) {
        this.jar = jar;
    }

    private static Map<String, String> settings(String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    @Override
    public String name() {
        return "Debezium 3.6.1 embedded";
    }

    @Override
    public String slotPrefix() {
        return "dbz_bench_";
    }

    /** {@code topic.prefix} is the slot's name; Debezium adds {@code .<schema>.<table>}. */
    @Override
    String topic(String slot, String table) {
        return slot + "." + table;
    }

    @Override
    Child launch(Target t) throws Exception {
        Path dir = Files.createTempDirectory("pgrelay-bench-debezium-");
        Map<String, String> engine = new LinkedHashMap<>();
        engine.put("name", t.slot());
        engine.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        engine.put("database.hostname", "127.0.0.1");
        engine.put("database.port", Integer.toString(t.sandbox().postgres().port()));
        engine.put("database.user", "postgres");
        engine.put("database.password", "");
        engine.put("database.dbname", "postgres");
        engine.put("topic.prefix", t.slot());
        engine.put("slot.name", t.slot());
        engine.put("publication.name", t.publication());
        engine.put("table.include.list", t.table());
        engine.putAll(ENGINE);
        Map<String, String> producer = new LinkedHashMap<>(PRODUCER);
        producer.put("bootstrap.servers", t.sandbox().kafka().bootstrapServers());
        producer.put("client.id", "bench-" + t.slot());
        Path engineFile = dir.resolve("engine.properties");
        Path producerFile = dir.resolve("producer.properties");
        Files.writeString(engineFile, properties(engine));
        Files.writeString(producerFile, properties(producer));
        Path log = dir.resolve("debezium.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(JVM_ARGS);
        cmd.addAll(cdsArgs(true));
        cmd.addAll(List.of("-jar", jar.toString(), engineFile.toString(), producerFile.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Child() {
            @Override
            public long pid() {
                return p.pid();
            }

            @Override
            public boolean isAlive() {
                return p.isAlive();
            }

            @Override
            public String log() throws IOException {
                return Files.readString(log);
            }

            @Override
            public void close() throws Exception {
                p.destroy();
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
                io.pgrelay.sandbox.server.Directories.deleteRecursively(dir);
            }
        };
    }

    private static String properties(Map<String, String> m) {
        return m.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n", "", "\n"));
    }

    @Override
    long commitMicros(byte[] value) {
        try {
            JsonNode source = JSON.readTree(value).get("source");
            return source.get("ts_us").asLong();
        } catch (IOException e) {
            throw new IllegalStateException("a Debezium record that is not JSON: " + e.getMessage(), e);
        }
    }

    @Override
    boolean confirmsSlot() {
        return false;
    }

    @Override
    String note(String log) {
        return JVM_NOTE + cdsNote() + ", settings in BENCHMARKS.md; log: " + problemLines(log);
    }
}
