package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.server.BuildOutput;
import io.pgrelay.sandbox.server.Directories;
import io.pgrelay.sandbox.server.Ports;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The dashboard as a child process ({@code java -jar pgrelay-dashboard.jar …}) on a free loopback
 * port, its output in a log file. The jar: {@code -Dpgrelay.dashboardJar}, else
 * {@code dashboard/target/pgrelay-dashboard.jar} above the working folder.
 */
public final class DashboardProcess implements AutoCloseable {

    private final Process process;
    private final Path dir;
    private final String url;

    private DashboardProcess(Process process, Path dir, String url) {
        this.process = process;
        this.dir = dir;
        this.url = url;
    }

    /** Starts the dashboard with {@code args} (e.g. {@code --agents …}) plus {@code --http}; returns once it answers. */
    public static DashboardProcess start(String... args) throws IOException, InterruptedException {
        return start(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build(), "http", args);
    }

    /**
     * Starts a dashboard serving HTTPS ({@code args} hold {@code --tls-cert} and {@code --tls-key});
     * {@code client} trusts its certificate and is used to wait until it answers.
     */
    public static DashboardProcess startHttps(HttpClient client, String... args) throws IOException, InterruptedException {
        return start(client, "https", args);
    }

    private static DashboardProcess start(HttpClient client, String scheme, String... args) throws IOException, InterruptedException {
        int port = Ports.free();
        Path dir = Files.createTempDirectory("pgrelay-dashboard-");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx128m");
        cmd.add("-jar");
        cmd.add(jar().toString());
        cmd.addAll(List.of(args));
        cmd.add("--http");
        cmd.add("127.0.0.1:" + port);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("dashboard.log").toFile()).start();
        DashboardProcess dashboard = new DashboardProcess(p, dir, scheme + "://127.0.0.1:" + port);
        try {
            dashboard.awaitAnswering(client, Duration.ofSeconds(30));
        } catch (RuntimeException | InterruptedException e) {
            String log = dashboard.log();
            dashboard.close();
            throw new IllegalStateException("dashboard did not start: " + e.getMessage() + "\n" + log, e);
        }
        return dashboard;
    }

    private void awaitAnswering(HttpClient client, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("exited with status " + process.exitValue());
            }
            try {
                HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/api/cluster")).timeout(Duration.ofSeconds(1)).build();
                if (client.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no answer on " + url + " within " + timeout);
    }

    public static Path jar() {
        return BuildOutput.find("pgrelay.dashboardJar", "dashboard/target/pgrelay-dashboard.jar", Files::isRegularFile,
                "dashboard/target/pgrelay-dashboard.jar not found; build it with ./mvnw -pl dashboard -am package");
    }

    /** The dashboard's base URL, e.g. {@code http://127.0.0.1:41234}. */
    public String url() {
        return url;
    }

    public String log() {
        try {
            Path log = dir.resolve("dashboard.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        Directories.deleteRecursively(dir);
    }
}
