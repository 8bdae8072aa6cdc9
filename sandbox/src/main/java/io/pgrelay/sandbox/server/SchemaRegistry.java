package io.pgrelay.sandbox.server;

import io.pgrelay.common.tls.TestCa;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Properties;

/**
 * A real schema registry — Apicurio Registry, whose Confluent-compatible API answers under
 * {@code /apis/ccompat/v7} — as a child process on 127.0.0.1 with in-memory (H2) storage: every
 * start is an empty registry. Runs the jar that the {@code sandbox/registry} module builds from
 * Apicurio's Maven Central artifact; its log lives in a temporary folder that {@link #close()}
 * removes.
 *
 * <p>{@link #startWithBasicAuth} starts one that asks every request for HTTP basic auth and knows
 * one user: Quarkus' basic mechanism and its realm of users from configuration, in the registry's
 * process (see {@code sandbox/registry}), answer 401 to a request without credentials or with
 * wrong ones. The user and password go to the registry in its working folder's
 * {@code config/application.properties}, not on its command line.
 */
public final class SchemaRegistry implements AutoCloseable {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final ServerProcess process;
    private final int port;
    private final String authorization;   // null for a registry without basic auth
    private final HttpClient client;      // CLIENT, or one that trusts the test CA of an HTTPS registry
    private final String scheme;

    private SchemaRegistry(ServerProcess process, int port, String authorization, HttpClient client, String scheme) {
        this.process = process;
        this.port = port;
        this.authorization = authorization;
        this.client = client;
        this.scheme = scheme;
    }

    /** Starts an empty registry on a free port and returns once its Confluent API lists subjects. */
    public static SchemaRegistry start() throws IOException, InterruptedException {
        return start(Ports.free());
    }

    /**
     * Starts an empty registry on {@code port} (a registry started again where a stopped one
     * was, for an agent configured with its URL).
     */
    public static SchemaRegistry start(int port) throws IOException, InterruptedException {
        return start(port, null, null, null, null, null);
    }

    /**
     * Starts an empty registry on a free port that speaks HTTPS only, presenting {@code server}
     * (issued by {@code ca} for 127.0.0.1); a plain HTTP request gets no answer from it.
     */
    public static SchemaRegistry startWithTls(TestCa ca, TestCa.Issued server) throws IOException, InterruptedException {
        return start(Ports.free(), null, null, null, null, new Tls(ca, server));
    }

    private record Tls(TestCa ca, TestCa.Issued server) {
    }

    /**
     * Starts an empty registry on a free port that refuses, with 401, every request without
     * {@code username} and {@code password} in HTTP basic auth; {@link #get} and {@link #put} send them.
     *
     * @param username letters, digits, {@code -} and {@code _} (a key of Quarkus' user map)
     */
    public static SchemaRegistry startWithBasicAuth(String username, String password) throws IOException, InterruptedException {
        checkUser(username, password);
        return start(Ports.free(), username, password, null, null, null);
    }

    /**
     * As {@link #startWithBasicAuth}, with a second user, {@code readOnlyUsername}, whom the registry
     * lets read but not write: registering a schema as that user is answered 403.
     */
    public static SchemaRegistry startWithBasicAuth(String username, String password, String readOnlyUsername,
                                                    String readOnlyPassword) throws IOException, InterruptedException {
        checkUser(username, password);
        checkUser(readOnlyUsername, readOnlyPassword);
        return start(Ports.free(), username, password, readOnlyUsername, readOnlyPassword, null);
    }

    /** A user is a key of Quarkus' user map: letters, digits, {@code -} and {@code _}, with a password. */
    private static void checkUser(String username, String password) {
        if (!username.matches("[A-Za-z0-9_-]+") || password.isEmpty()) {
            throw new IllegalArgumentException("a registry user is letters, digits, - and _, with a password: " + username);
        }
    }

    private static SchemaRegistry start(int port, String username, String password, String readOnlyUsername,
                                        String readOnlyPassword, Tls tls)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pgrelay-registry-");
        SchemaRegistry registry = null;
        try {
            String authorization = null;
            if (username != null) {
                Properties users = new Properties();
                users.setProperty("pgrelay.registry.basic-auth", "true");
                users.setProperty("quarkus.security.users.embedded.users." + username, password);
                if (readOnlyUsername != null) {
                    users.setProperty("quarkus.security.users.embedded.users." + readOnlyUsername, readOnlyPassword);
                    users.setProperty("pgrelay.registry.read-only-users", readOnlyUsername);
                }
                Files.createDirectory(dir.resolve("config"));
                // the byte-stream form escapes every non-ASCII character: the file reads the same in any encoding
                try (OutputStream out = Files.newOutputStream(dir.resolve("config/application.properties"))) {
                    users.store(out, "the registry's one user (SchemaRegistry.startWithBasicAuth)");
                }
                authorization = "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
            }
            List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dquarkus.http.host=127.0.0.1",
                    // Quarkus writes its own temporary files under the working folder's tmp: keep them in ours
                    "-Djava.io.tmpdir=" + dir));
            HttpClient client = CLIENT;
            if (tls == null) {
                command.add("-Dquarkus.http.port=" + port);
            } else {
                // HTTPS on the port, and the plain listener (on a port of its own) refuses every request
                command.addAll(List.of("-Dquarkus.http.ssl-port=" + port, "-Dquarkus.http.port=" + Ports.free(),
                        "-Dquarkus.http.insecure-requests=disabled",
                        "-Dquarkus.http.ssl.certificate.files=" + tls.server().cert(),
                        "-Dquarkus.http.ssl.certificate.key-files=" + tls.server().key()));
                client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                        .sslContext(io.pgrelay.common.tls.TlsContexts.client(tls.ca().certificate(), true, null, null)).build();
            }
            command.addAll(List.of("-jar", jar().toString()));
            registry = new SchemaRegistry(ServerProcess.start(command, dir, "registry.log"), port, authorization, client,
                    tls == null ? "http" : "https");
            registry.awaitReady();
            return registry;
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (registry != null) {
                registry.close();
            } else {
                Directories.deleteRecursively(dir);
            }
            throw e;
        }
    }

    /** The registry's Confluent-compatible base URL, what {@code kafka.schemaRegistry.url} names. */
    public String url() {
        return scheme + "://127.0.0.1:" + port + "/apis/ccompat/v7";
    }

    /** Apicurio's own API ({@code /apis/registry/v2}), what Apicurio's serdes and Kafka Connect converters talk to. */
    public String apicurioUrl() {
        return scheme + "://127.0.0.1:" + port + "/apis/registry/v2";
    }

    public int port() {
        return port;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return process.log();
    }

    /** GET on the Confluent API, e.g. {@code get("/schemas/ids/1")}, as the registry's user if it has one: status and body. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** PUT of a JSON body on the Confluent API, e.g. a subject's compatibility on {@code /config/<subject>}. */
    public HttpResponse<String> put(String path, String json) throws IOException, InterruptedException {
        HttpRequest req = request(path).header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(5));
        return authorization == null ? request : request.header("Authorization", authorization);
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the schema registry exited with " + process.exitValue() + " at start:\n" + log());
            }
            try {
                if (get("/subjects").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the schema registry did not answer within " + START_TIMEOUT.toSeconds() + " s:\n" + log());
    }

    /**
     * {@code -Dpgrelay.registryJar} (the sandbox's Failsafe sets it), else the runner jar of
     * {@code sandbox/registry/target} above the working folder.
     */
    static Path jar() {
        return BuildOutput.find("pgrelay.registryJar", "sandbox/registry/target/pgrelay-sandbox-registry-runner.jar",
                Files::isRegularFile, "the schema registry's jar was not found; build it with ./mvnw -pl sandbox/registry package");
    }

    /** SIGKILL: the registry goes down at once, as a crashed one would. The folder stays until {@link #close()}. */
    public void kill() throws InterruptedException {
        process.kill();
    }

    /** SIGTERM, up to 10 s for a clean stop, then SIGKILL; removes the folder. */
    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
