package io.pgrelay.sandbox.server;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real Kafka broker (KRaft, broker and controller in one process) in this JVM, bound to 127.0.0.1,
 * with replication factors of 1 so transactions work on a single node.
 *
 * <p>With {@code -Dpgrelay.sandbox.brokerJvm=own} the broker runs in a JVM of its own instead, as
 * {@code kafka-server-start.sh} starts one (its heap and collector settings, {@link #OWN_JVM_FLAGS}):
 * for benchmarks, where a broker inside the benchmark's JVM pauses with every collection of the
 * benchmark's own writers and readers, which a user's broker does not.
 */
public final class Kafka implements AutoCloseable {

    /** {@code kafka-server-start.sh}'s heap and {@code kafka-run-class.sh}'s JVM performance options (Kafka 4.x). */
    static final List<String> OWN_JVM_FLAGS = List.of("-Xmx1G", "-Xms1G", "-server", "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true");

    private final KafkaRaftServer server;       // null when the broker has its own JVM
    private final ServerProcess process;        // null when the broker runs in this JVM
    private final Path logDir;
    private final int port;

    private Kafka(KafkaRaftServer server, ServerProcess process, Path logDir, int port) {
        this.server = server;
        this.process = process;
        this.logDir = logDir;
        this.port = port;
    }

    public static Kafka start() throws Exception {
        return start(freePort());
    }

    /**
     * The broker's transaction settings. {@link #TUNED}, what every test and the demo use: the broker
     * retries a transaction's first records every 5 ms (for up to 2 s) while the previous commit's
     * markers are written. {@link #STOCK}: Kafka's defaults (20 ms, up to 100 ms), what users' brokers
     * run and what the benchmark publishes figures against.
     */
    public enum Tuning { TUNED, STOCK }

    /** A broker on a free port with the given transaction settings. */
    public static Kafka start(Tuning tuning) throws Exception {
        return start(freePort(), List.of(), tuning);
    }

    /**
     * One more listener of the broker: it binds {@code port} and tells the clients that bootstrap
     * through it to connect to {@code advertisedPort} — a {@link FaultProxy} in front of {@code port},
     * so that every connection of those clients, not only the first, goes through the proxy.
     */
    public record Listener(String name, int port, int advertisedPort) {
        public Listener {
            if (!name.matches("[A-Z][A-Z0-9_]*") || name.equals("PLAINTEXT") || name.equals("CONTROLLER")) {
                throw new IllegalArgumentException("listener name " + name + ": upper case, not PLAINTEXT or CONTROLLER");
            }
        }
    }

    /**
     * {@code listeners}, {@code advertised.listeners} and the rest for a node on {@code port} (clients,
     * and between brokers) and {@code controllerPort}, plus the {@code extra} listeners.
     */
    static void putListeners(Properties props, int port, int controllerPort, List<Listener> extra) {
        StringBuilder listeners = new StringBuilder("PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        StringBuilder advertised = new StringBuilder("PLAINTEXT://127.0.0.1:" + port);
        StringBuilder protocols = new StringBuilder("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        for (Listener l : extra) {
            listeners.append(',').append(l.name()).append("://127.0.0.1:").append(l.port());
            advertised.append(',').append(l.name()).append("://127.0.0.1:").append(l.advertisedPort());
            protocols.append(',').append(l.name()).append(":PLAINTEXT");
        }
        props.put("listeners", listeners.toString());
        props.put("advertised.listeners", advertised.toString());
        props.put("controller.listener.names", "CONTROLLER");
        // brokers talk to each other straight, never through an agent's proxy
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", protocols.toString());
    }

    /**
     * The settings of a one-node sandbox broker whatever its listeners: node 1 is broker and
     * controller (its quorum on {@code controllerPort}), replication factors of 1 so transactions
     * work on it, topics only created on purpose, and no waiting before a group's first rebalance.
     */
    static Properties singleNodeConfig(int controllerPort, Path logDir) {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("log.dirs", logDir.toString());
        props.put("num.partitions", "1");
        props.put("default.replication.factor", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
        props.put("auto.create.topics.enable", "false");
        // Zombie fencing tests abort transactions of a stopped producer; keep that quick.
        props.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
        return props;
    }

    /**
     * Formats {@code logDir} for {@link #singleNodeConfig}'s node 1, as {@code kafka-storage format}
     * does, with the SCRAM credentials {@code scramArguments} ({@code --add-scram}'s form) if any.
     */
    static void format(Path logDir, List<String> scramArguments) throws Exception {
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setClusterId(Uuid.randomUuid().toString())
                .setNodeId(1)
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(logDir.toString())
                .setDirectories(List.of(logDir.toString()))
                .setReleaseVersion(MetadataVersion.latestProduction())
                .setScramArguments(scramArguments)
                .run();
    }

    /** A broker on the given port, e.g. one that clients were already told to use while nothing listened there. */
    public static Kafka start(int port) throws Exception {
        return start(port, List.of(), Tuning.TUNED);
    }

    /** A broker on a free port with extra PLAINTEXT listeners, e.g. one per agent behind its own proxy. */
    public static Kafka start(List<Listener> extra) throws Exception {
        return start(freePort(), extra, Tuning.TUNED);
    }

    private static Kafka start(int port, List<Listener> extra, Tuning tuning) throws Exception {
        Path logDir = Files.createTempDirectory("pgrelay-kafka-");
        int controllerPort = freePort();
        Properties props = singleNodeConfig(controllerPort, logDir);
        putListeners(props, port, controllerPort, extra);
        props.put("offsets.topic.num.partitions", "3");
        props.put("transaction.state.log.num.partitions", "3");
        props.put("log.cleaner.backoff.ms", "1000");
        props.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        if (tuning == Tuning.TUNED) {
            // Transactions v2 (Kafka 4's default) retry adding a partition to a transaction on the broker
            // while the previous commit is not complete yet, every 20 ms by default. The agent no longer
            // sends into that window (it waits for the coordinator to complete each commit, see its
            // CommitCompletion), so this is for the tests' own transactional producers and for speed;
            // the benchmark publishes its figures on Kafka's defaults (Tuning.STOCK). docs/deploy.md
            // mentions both settings as optional extras.
            props.put("add.partitions.to.txn.retry.backoff.ms", "5");
            // The broker gives up after add.partitions.to.txn.retry.backoff.max.ms (100 ms by default) and
            // answers CONCURRENT_TRANSACTIONS. When markers take longer (a cold or busy broker: the demo's
            // first data transaction on two shared cores, in each run we made), the producer retries that
            // first batch while its next batches for the partition are on the way; under transactions v2 a
            // transaction's new epoch must start at sequence 0 (KAFKA-18202), so the broker rejects those with
            // the retriable OutOfOrderSequenceException, logged at ERROR by ReplicaManager, and the producer
            // logs CONCURRENT_TRANSACTIONS and OUT_OF_ORDER_SEQUENCE_NUMBER at WARN. Nothing is lost or
            // duplicated; waiting the markers out on the broker keeps the race from the producer (the
            // agent's own wait for a complete commit does the same on the client, up to 2 s).
            props.put("add.partitions.to.txn.retry.backoff.max.ms", "2000");
        }
        String prefix = "pgrelay.sandbox.kafka.";
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(prefix))
                .forEach(k -> props.put(k.substring(prefix.length()), System.getProperty(k)));

        KafkaConfig config = new KafkaConfig(props);
        format(logDir, List.of());
        if ("own".equals(System.getProperty("pgrelay.sandbox.brokerJvm"))) {
            return startOwnJvm(props, logDir, port);
        }
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        Kafka kafka = new Kafka(server, null, logDir, port);
        kafka.awaitReady();
        return kafka;
    }

    /** The formatted node of {@code props} in a child JVM ({@code kafka.Kafka server.properties}), with this JVM's class path. */
    private static Kafka startOwnJvm(Properties props, Path logDir, int port) throws Exception {
        Path dir = Files.createTempDirectory("pgrelay-kafka-jvm-");
        Path config = dir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            props.store(out, "the sandbox broker (Kafka.startOwnJvm)");
        }
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(OWN_JVM_FLAGS);
        // absolute: the child runs in its own folder
        String classPath = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        command.addAll(List.of("-cp", classPath, "kafka.Kafka", config.toString()));
        Kafka kafka = new Kafka(null, ServerProcess.start(command, dir, "broker.log"), logDir, port);
        try {
            kafka.awaitReady();
        } catch (Exception e) {
            String log = kafka.process.log();
            kafka.close();
            throw new IllegalStateException("the broker's own JVM did not start: " + e.getMessage() + "\n" + log, e);
        }
        return kafka;
    }

    private void awaitReady() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
        } else {
            try {
                process.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Directories.deleteRecursively(logDir);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
