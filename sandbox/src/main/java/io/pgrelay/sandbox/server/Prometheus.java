package io.pgrelay.sandbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real Prometheus server — the {@code prometheus} binary of Debian's package of that name — as a
 * child process on 127.0.0.1, with its configuration, rule files and TSDB in a temporary folder
 * that {@link #close()} removes.
 */
public final class Prometheus implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final ServerProcess process;
    private final int port;

    private Prometheus(ServerProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Writes {@code prometheus.yml} and the other {@code files} (name → content; rule files named
     * relative to the config resolve beside it) into a new folder, starts Prometheus on a free port
     * and returns once {@code /-/ready} answers 200.
     */
    public static Prometheus start(String prometheusYml, Map<String, String> files) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            Path dir = Files.createTempDirectory("pgrelay-prometheus-");
            Prometheus prometheus = null;
            try {
                Files.writeString(dir.resolve("prometheus.yml"), prometheusYml);
                for (Map.Entry<String, String> f : files.entrySet()) {
                    Files.writeString(dir.resolve(f.getKey()), f.getValue());
                }
                int port = Ports.free();
                List<String> command = List.of(binary(),
                        "--config.file=" + dir.resolve("prometheus.yml"),
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn");
                prometheus = new Prometheus(ServerProcess.start(command, dir, "prometheus.log"), port);
                prometheus.awaitReady();
                return prometheus;
            } catch (PortTaken e) {
                prometheus.close();
                if (attempt == 3) {
                    throw new IllegalStateException("prometheus found its port taken three times:\n" + e.getMessage());
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                if (prometheus != null) {
                    prometheus.close();
                }
                Directories.deleteRecursively(dir);
                throw e;
            }
        }
    }

    /** The free port {@link Ports#free()} gave was taken by another process before Prometheus bound it. */
    private static final class PortTaken extends Exception {
        PortTaken(String log) {
            super(log);
        }
    }

    private void awaitReady() throws IOException, InterruptedException, PortTaken {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String log = log();
                if (log.contains("address already in use")) {
                    throw new PortTaken(log);
                }
                throw new IllegalStateException("prometheus exited with " + process.exitValue() + " at start:\n" + log);
            }
            try {
                if (get("/-/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("prometheus not ready within " + START_TIMEOUT.toSeconds() + " s:\n" + log());
    }

    /** {@code -Dpgrelay.prometheus}, {@code $PROMETHEUS}, else {@code prometheus} on the PATH (./scripts/test installs it). */
    private static String binary() {
        String configured = System.getProperty("pgrelay.prometheus", System.getenv("PROMETHEUS"));
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, "prometheus"))) {
                return Path.of(d, "prometheus").toString();
            }
        }
        throw new IllegalStateException("prometheus not found on the PATH: install Debian's prometheus package (./scripts/test does)");
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * GET on the HTTP API, e.g. {@code api("/api/v1/alerts")}; the JSON answer, whatever its
     * {@code status} (a bad query answers 400 with {@code "status":"error"}).
     */
    public JsonNode api(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = get(path);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IOException("GET " + path + " answered " + r.statusCode() + " with no JSON: " + r.body(), e);
        }
    }

    /** An instant query ({@code /api/v1/query}) at the current time. */
    public JsonNode query(String promql) throws IOException, InterruptedException {
        return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(5)).GET().build();
        return CLIENT.send(req, HttpResponse.BodyHandlers.ofString());
    }

    public String log() throws IOException {
        return process.log();
    }

    /** SIGTERM, up to 10 s for a clean stop, then SIGKILL; removes the folder. */
    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
