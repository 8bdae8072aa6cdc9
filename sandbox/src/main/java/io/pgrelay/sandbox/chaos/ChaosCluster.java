package io.pgrelay.sandbox.chaos;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentNetwork;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.server.KafkaCluster;
import io.pgrelay.sandbox.server.Postgres;
import io.pgrelay.sandbox.server.ZooKeeperEnsemble;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Everything the chaos drill breaks, started together and closed in reverse: PostgreSQL, three Kafka
 * brokers (each its own process; replication factor 3, {@code min.insync.replicas} 2), in
 * {@code zookeeper} mode three ZooKeeper servers (each its own process), three agents, each reaching
 * every server through proxies of its own ({@link AgentNetwork}), restarted 3 s after they die as
 * Kubernetes would, and a steady load ({@link #startLoad}).
 */
final class ChaosCluster implements AutoCloseable {

    static final String CLUSTER = "chaos";
    static final String TABLE = "public.chaos_load";
    static final String TOPIC = CLUSTER + "." + TABLE;
    static final int AGENTS = 3;
    static final int BROKERS = 3;
    static final int PARTITIONS = 3;
    /** The producer's transaction timeout (pgrelay's default is 10 minutes): a broker kept down past it is one of the faults. */
    static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(15);
    static final String SESSION_TIMEOUT = "2s";

    final String mode;
    final Postgres postgres;
    final ZooKeeperEnsemble zookeeper;   // null in slot mode
    final AgentNetwork network;
    final KafkaCluster kafka;
    final Cluster agents;
    final LoadGenerator load;
    private final AtomicBoolean stopLoad = new AtomicBoolean();
    private final Thread loader;
    private final List<AutoCloseable> started;

    private ChaosCluster(String mode, Postgres postgres, ZooKeeperEnsemble zookeeper, AgentNetwork network, KafkaCluster kafka,
                         Cluster agents, LoadGenerator load, int rowsPerSecond, List<AutoCloseable> started) {
        this.mode = mode;
        this.postgres = postgres;
        this.zookeeper = zookeeper;
        this.network = network;
        this.kafka = kafka;
        this.agents = agents;
        this.load = load;
        this.started = started;
        // transactions of 10 inserts and 2 updates of earlier rows, as the failover drill's load
        loader = new Thread(() -> load.write(Long.MAX_VALUE, 10, 2, rowsPerSecond, stopLoad), "chaos-load");
        loader.setDaemon(true);
    }

    /** Starts the servers, the agents and the load; {@code say} is told what starts. */
    static ChaosCluster start(String mode, int rowsPerSecond, java.util.function.Consumer<String> say) throws Exception {
        List<AutoCloseable> started = new ArrayList<>();
        try {
            say.accept("starting PostgreSQL…");
            Postgres postgres = Postgres.start();
            started.add(postgres);
            ZooKeeperEnsemble zookeeper = null;
            List<Integer> zookeeperPorts = List.of();
            if (mode.equals("zookeeper")) {
                say.accept("starting three ZooKeeper servers…");
                zookeeper = ZooKeeperEnsemble.start(3, 200);
                started.add(zookeeper);
                zookeeperPorts = zookeeper.nodes().stream().map(ZooKeeperEnsemble.Node::clientPort).toList();
            }
            AgentNetwork network = AgentNetwork.start(AGENTS, postgres.port(), zookeeperPorts, BROKERS);
            started.add(network);
            say.accept("starting three Kafka brokers…");
            KafkaCluster kafka = KafkaCluster.start(BROKERS, network::kafkaListeners);
            started.add(kafka);
            LoadGenerator load = new LoadGenerator(postgres.connections(), TABLE);
            load.createTable();
            AgentConfigs configs = new AgentConfigs(null, CLUSTER).postgres(postgres).network(network).mode(mode)
                    .zookeeperSessionTimeout(SESSION_TIMEOUT).tables(TABLE)
                    .kafka("partitions: " + PARTITIONS)
                    .producer("transaction.timeout.ms", String.valueOf(TRANSACTION_TIMEOUT.toMillis()));
            say.accept("starting " + AGENTS + " agents in " + mode + " mode…");
            Cluster agents = Cluster.start(configs, AGENTS);
            started.add(agents);
            ChaosCluster c = new ChaosCluster(mode, postgres, zookeeper, network, kafka, agents, load, rowsPerSecond, started);
            agents.restartDeadMembers(Duration.ofSeconds(3), m -> say.accept(m.id() + " restarted"));
            return c;
        } catch (Exception | Error e) {
            closeAll(started, e);
            throw e;
        }
    }

    /**
     * Starts the load once an agent leads and the slot exists: without a snapshot ({@code snapshot.mode:
     * never}, as the tests' agents) a row written before the slot was created is never streamed.
     */
    void startLoad(Duration timeout) throws InterruptedException, java.sql.SQLException {
        agents.awaitLeader(timeout.toMillis());
        long deadline = System.nanoTime() + timeout.toNanos();
        try (java.sql.Connection conn = postgres.connect();
             java.sql.PreparedStatement slot = conn.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            slot.setString(1, "pgrelay_" + CLUSTER);
            while (true) {
                try (java.sql.ResultSet rs = slot.executeQuery()) {
                    if (rs.next()) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("slot pgrelay_" + CLUSTER + " not created within " + timeout.toSeconds() + " s");
                }
                Thread.sleep(100);
            }
        }
        loader.start();
    }

    /** Stops the load and waits for its last transaction. */
    void stopLoad() throws InterruptedException {
        stopLoad.set(true);
        loader.join(30_000);
    }

    /** Whether the load still writes (it stops on the first failed statement). */
    boolean loadAlive() {
        return loader.isAlive();
    }

    @Override
    public void close() throws Exception {
        stopLoad.set(true);
        loader.join(10_000);
        Exception failure = new Exception("the chaos cluster did not stop cleanly");
        closeAll(started, failure);
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }

    /** Closes in reverse order of start, adding each failure to {@code failure}. */
    private static void closeAll(List<AutoCloseable> started, Throwable failure) {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }
}
