package io.pgrelay.sandbox.server;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Kafka cluster of three or more KRaft nodes, each broker and controller in one process of its own
 * ({@code kafka.Kafka}, from the Kafka jars on this JVM's class path), so that a node can be
 * SIGKILLed and started again on the same data. Binds to 127.0.0.1; {@link #close()} kills every
 * node and deletes the data.
 *
 * <p>The nodes run Kafka's defaults but for what a cluster on one machine needs (ports, directories,
 * the static quorum) and what the tests are about, all in {@link #brokerConfig}. Unlike the single
 * sandbox {@link Kafka} broker, nothing is tuned for speed: a fault takes as long here as on a
 * production cluster with default settings.
 */
public final class KafkaCluster implements AutoCloseable {

    private final Path root;
    private final List<Broker> brokers = new ArrayList<>();
    private Admin admin;   // guarded by this; created on first use

    /** One node of the cluster; {@code id} is its {@code node.id}, from 1. */
    public final class Broker {
        private final int id;
        private final int port;
        private final Path config;
        private final Path log;
        private Process process;   // guarded by this

        private Broker(int id, int port, Path config, Path log) {
            this.id = id;
            this.port = port;
            this.config = config;
            this.log = log;
        }

        public int id() {
            return id;
        }

        /** Starts the node (again, on the data it had) unless it runs. */
        public synchronized void start() throws IOException {
            if (process != null && process.isAlive()) {
                return;
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            // small heaps, and C1 only: three brokers start on two shared cores in a fraction of the CPU C2 takes
            process = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    "kafka.Kafka", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        }

        /** SIGKILL, as a crash: nothing flushed, no controlled shutdown, leadership moves when the controller notices. */
        public synchronized void kill() throws InterruptedException {
            if (process != null) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }

        public synchronized boolean alive() {
            return process != null && process.isAlive();
        }

        public Path log() {
            return log;
        }

        @Override
        public String toString() {
            return "broker " + id + " (127.0.0.1:" + port + ")";
        }
    }

    private KafkaCluster(Path root) {
        this.root = root;
    }

    /** Starts {@code size} nodes, a quorum of all of them, and waits until every one is registered as a broker. */
    public static KafkaCluster start(int size) throws Exception {
        return start(size, id -> List.of());
    }

    /**
     * As {@link #start(int)}, broker {@code id} (from 1) with the extra PLAINTEXT listeners
     * {@code extraListeners.apply(id)}, e.g. one per agent behind its own proxy
     * ({@link io.pgrelay.sandbox.cluster.AgentNetwork#kafkaListeners(int)}).
     */
    public static KafkaCluster start(int size, java.util.function.IntFunction<List<Kafka.Listener>> extraListeners) throws Exception {
        KafkaCluster c = new KafkaCluster(Files.createTempDirectory("pgrelay-kafka-cluster-"));
        try {
            int[] brokerPorts = new int[size];
            int[] controllerPorts = new int[size];
            for (int i = 0; i < size; i++) {
                brokerPorts[i] = Ports.free();
                controllerPorts[i] = Ports.free();
            }
            String voters = java.util.stream.IntStream.range(0, size)
                    .mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllerPorts[i]).collect(Collectors.joining(","));
            String clusterId = Uuid.randomUuid().toString();
            for (int i = 0; i < size; i++) {
                int id = i + 1;
                Path dir = Files.createDirectories(c.root.resolve("broker-" + id));
                Path data = Files.createDirectories(dir.resolve("data"));
                Properties props = brokerConfig(id, brokerPorts[i], controllerPorts[i], voters, data, extraListeners.apply(id));
                Path config = dir.resolve("server.properties");
                try (Writer w = Files.newBufferedWriter(config)) {
                    props.store(w, "pgrelay sandbox, broker " + id + " of " + size);
                }
                new Formatter()
                        .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                        .setClusterId(clusterId)
                        .setNodeId(id)
                        .setControllerListenerName("CONTROLLER")
                        .setMetadataLogDirectory(data.toString())
                        .setDirectories(List.of(data.toString()))
                        .setReleaseVersion(MetadataVersion.latestProduction())
                        .run();
                c.brokers.add(c.new Broker(id, brokerPorts[i], config, dir.resolve("broker.log")));
            }
            for (Broker b : c.brokers) {
                b.start();
            }
            c.awaitBrokers(c.brokers, 180_000);
            return c;
        } catch (Exception | Error failure) {
            c.close();
            throw failure;
        }
    }

    /**
     * A node's configuration: Kafka's defaults except as commented. Among the defaults kept, those
     * that decide how long a fault takes: {@code broker.session.timeout.ms} 9 s (a SIGKILLed broker is
     * fenced, and its partitions get new leaders, after that), {@code replica.lag.time.max.ms} 30 s,
     * {@code transaction.state.log.replication.factor} 3 and {@code transaction.state.log.min.isr} 2,
     * {@code controller.quorum.election.timeout.ms} 1 s.
     */
    static Properties brokerConfig(int id, int port, int controllerPort, String voters, Path data, List<Kafka.Listener> extra) {
        Properties p = new Properties();
        // one machine: a node per process, on loopback ports of its own, with a static three-voter quorum
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(id));
        p.put("controller.quorum.voters", voters);
        Kafka.putListeners(p, port, controllerPort, extra);
        p.put("log.dirs", data.toString());
        // what the tests are about: topics created without a replication factor (pgrelay's) get 3 replicas,
        // and acks=all needs two of them (defaults: 1 and 1)
        p.put("default.replication.factor", "3");
        p.put("min.insync.replicas", "2");
        // default already, written out because the tests rely on them
        p.put("transaction.state.log.replication.factor", "3");
        p.put("transaction.state.log.min.isr", "2");
        // pgrelay creates its topics itself; a typo'd topic must not appear by accident (default true)
        p.put("auto.create.topics.enable", "false");
        // the log cleaner (for pgrelay's compacted checkpoint and schema topics) allocates this much heap
        // up front, 128 MB by default: too much for three brokers in 256 MB heaps each on a test machine
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
        return p;
    }

    public List<Broker> brokers() {
        return List.copyOf(brokers);
    }

    public Broker broker(int id) {
        return brokers.stream().filter(b -> b.id == id).findFirst().orElseThrow();
    }

    public String bootstrapServers() {
        return brokers.stream().map(b -> "127.0.0.1:" + b.port).collect(Collectors.joining(","));
    }

    /** The broker that leads {@code partition} now, as the cluster's metadata says (it may lag a crash by the session timeout). */
    public Broker leaderOf(TopicPartition partition) throws Exception {
        TopicDescription d = admin().describeTopics(Set.of(partition.topic())).allTopicNames().get(10, TimeUnit.SECONDS)
                .get(partition.topic());
        Node leader = d.partitions().get(partition.partition()).leader();
        if (leader == null || leader.isEmpty()) {
            throw new IllegalStateException(partition + " has no leader");
        }
        return broker(leader.id());
    }

    /** The partition of {@code topic} with the most records so far (the highest end offset). */
    public TopicPartition busiestPartition(String topic) throws Exception {
        Map<Integer, List<Integer>> partitions = inSyncReplicas(topic);
        Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = partitions.keySet().stream()
                .collect(Collectors.toMap(p -> new TopicPartition(topic, p), p -> org.apache.kafka.clients.admin.OffsetSpec.latest()));
        return admin().listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet().stream()
                .max(Map.Entry.comparingByValue(java.util.Comparator.comparingLong(o -> o.offset())))
                .orElseThrow().getKey();
    }

    /** In-sync replicas of each partition of {@code topic}, by broker id. */
    public Map<Integer, List<Integer>> inSyncReplicas(String topic) throws Exception {
        TopicDescription d = admin().describeTopics(Set.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
        return d.partitions().stream().collect(Collectors.toMap(TopicPartitionInfo::partition,
                p -> p.isr().stream().map(Node::id).toList()));
    }

    /** The transaction coordinator of {@code transactionalId} (the leader of its transaction state log partition). */
    public Broker coordinatorOf(String transactionalId) throws Exception {
        int id = admin().describeTransactions(List.of(transactionalId)).description(transactionalId)
                .get(10, TimeUnit.SECONDS).coordinatorId();
        return broker(id);
    }

    /** Waits until each of {@code expected} is registered with the controller and unfenced (serves clients). */
    public void awaitBrokers(List<Broker> expected, long timeoutMillis) throws Exception {
        Set<Integer> ids = expected.stream().map(Broker::id).collect(Collectors.toSet());
        long deadline = System.currentTimeMillis() + timeoutMillis;
        Exception last = null;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (admin().describeCluster().nodes().get(5, TimeUnit.SECONDS).stream().map(Node::id).collect(Collectors.toSet())
                        .containsAll(ids)) {
                    return;
                }
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(expected + " not all up after " + timeoutMillis + " ms; logs under " + root, last);
    }

    /** Waits until every partition of {@code topic} has all its replicas in sync again (e.g. after a restart). */
    public void awaitFullIsr(String topic, int replicas, long timeoutMillis) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            if (inSyncReplicas(topic).values().stream().allMatch(isr -> isr.size() >= replicas)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(topic + " not fully in sync after " + timeoutMillis + " ms: " + inSyncReplicas(topic));
    }

    private synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000",
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000"));
        }
        return admin;
    }

    @Override
    public void close() throws InterruptedException {
        synchronized (this) {
            if (admin != null) {
                admin.close(java.time.Duration.ZERO);
            }
        }
        for (Broker b : brokers) {
            b.kill();
        }
        Directories.deleteRecursively(root);
    }
}
