package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A real Kafka Connect worker in standalone mode ({@code ConnectStandalone}) as a child process on
 * 127.0.0.1, with the classpath the {@code sandbox/jdbc-sink} module copies to its
 * {@code target/lib} — Kafka Connect's runtime and JsonConverter, Debezium's JDBC sink connector
 * with Hibernate, and the PostgreSQL driver — so none of it meets the sandbox's own classpath.
 * Its properties, log and offsets live in a temporary folder that {@link #close()} removes.
 *
 * <p>Converters are JsonConverter with {@code schemas.enable=true} for keys and values, and the
 * sink consumers read {@code read_committed}: pgrelay writes in Kafka transactions, and a
 * {@code read_uncommitted} sink would apply the records of a transaction aborted by a leader's death.
 */
public final class ConnectWorker implements AutoCloseable {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final ServerProcess process;
    private final int port;

    private ConnectWorker(ServerProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts a worker against {@code bootstrapServers} with the given connectors (each a map of
     * connector properties with its {@code name}) and returns once its REST API lists them all.
     */
    public static ConnectWorker start(String bootstrapServers, List<Map<String, String>> connectors)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pgrelay-connect-");
        ConnectWorker worker = null;
        try {
            int port = Ports.free();
            Map<String, String> props = new LinkedHashMap<>();
            props.put("bootstrap.servers", bootstrapServers);
            props.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
            props.put("key.converter.schemas.enable", "true");
            props.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
            props.put("value.converter.schemas.enable", "true");
            props.put("consumer.isolation.level", "read_committed");
            props.put("offset.storage.file.filename", dir.resolve("offsets").toString());
            props.put("offset.flush.interval.ms", "1000");
            props.put("listeners", "http://127.0.0.1:" + port);
            props.put("rest.advertised.host.name", "127.0.0.1");
            Files.writeString(dir.resolve("worker.properties"), properties(props));
            Files.writeString(dir.resolve("logback.xml"), LOGBACK);
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx384m", "-XX:+UseSerialGC",
                    "-Dlogback.configurationFile=" + dir.resolve("logback.xml"),
                    "-cp", lib().resolve("*").toString(),
                    "org.apache.kafka.connect.cli.ConnectStandalone", dir.resolve("worker.properties").toString()));
            List<String> names = new ArrayList<>();
            for (Map<String, String> connector : connectors) {
                String name = connector.get("name");
                Path file = dir.resolve(name + ".properties");
                Files.writeString(file, properties(connector));
                command.add(file.toString());
                names.add(name);
            }
            worker = new ConnectWorker(ServerProcess.start(command, dir, "connect.log"), port);
            worker.awaitConnectors(names);
            return worker;
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (worker != null) {
                worker.close();
            } else {
                Directories.deleteRecursively(dir);
            }
            throw e;
        }
    }

    /** The whole JSON of {@code /connectors/<name>/status}: connector and task states, a failed task's trace. */
    public String status(String connector) throws IOException, InterruptedException {
        return get("/connectors/" + connector + "/status").body();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return process.log();
    }

    private void awaitConnectors(List<String> names) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the Kafka Connect worker exited with " + process.exitValue() + " at start:\n" + log());
            }
            try {
                HttpResponse<String> r = get("/connectors");
                if (r.statusCode() == 200 && names.stream().allMatch(n -> r.body().contains("\"" + n + "\""))) {
                    return;
                }
            } catch (IOException notYet) {
                // the REST server is not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the Kafka Connect worker did not list " + names + " within "
                + START_TIMEOUT.toSeconds() + " s:\n" + log());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).GET().build();
        return CLIENT.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * {@code -Dpgrelay.jdbcSinkLib} (the sandbox's Failsafe sets it), else
     * {@code sandbox/jdbc-sink/target/lib} above the working folder.
     */
    static Path lib() {
        return BuildOutput.find("pgrelay.jdbcSinkLib", "sandbox/jdbc-sink/target/lib", Files::isDirectory,
                "sandbox/jdbc-sink/target/lib not found; build it with ./mvnw -pl sandbox/jdbc-sink package");
    }

    private static String properties(Map<String, String> m) {
        // backslashes are escapes in a .properties file (a Windows path, a regex): write them doubled
        return m.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().replace("\\", "\\\\"))
                .collect(Collectors.joining("\n", "", "\n"));
    }

    private static final String LOGBACK = """
            <configuration>
              <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
              </appender>
              <logger name="org.apache.kafka.clients" level="WARN"/>
              <logger name="org.apache.kafka.common" level="WARN"/>
              <logger name="org.hibernate" level="WARN"/>
              <logger name="org.reflections" level="ERROR"/>
              <root level="INFO"><appender-ref ref="out"/></root>
            </configuration>
            """;

    /** SIGTERM, up to 10 s for a clean stop, then SIGKILL; removes the folder. */
    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
