package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.server.FaultProxy;
import io.pgrelay.sandbox.server.Kafka;
import io.pgrelay.sandbox.server.Ports;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Each agent's own network path to PostgreSQL, ZooKeeper and Kafka: a {@link FaultProxy} per agent
 * and server, so that one agent can be cut off from one server while the others still reach it.
 *
 * <p>Kafka needs more than a proxy in front of the bootstrap address: after bootstrapping, a client
 * connects to the broker's advertised listener. So each agent gets a listener of its own on each
 * broker ({@link #kafkaListeners(int)}, to pass to {@link Kafka#start(List)} or
 * {@link io.pgrelay.sandbox.server.KafkaCluster#start(int, java.util.function.IntFunction)}), which
 * advertises that agent's proxy to that broker: the agent's producer, checkpoint reader and admin
 * client all connect through it. Start the network first, then the brokers.
 */
public final class AgentNetwork implements AutoCloseable {

    /** The servers an agent reaches. */
    public enum Server { POSTGRES, KAFKA, ZOOKEEPER }

    /** How a path is cut: {@link FaultProxy#blackhole()}, {@link FaultProxy#drop()}, or latency each way. */
    public enum Cut { BLACKHOLE, DROP, LATENCY }

    /**
     * One agent's proxies: one to PostgreSQL, one to each ZooKeeper server (none when the network
     * was started without ZooKeeper), one to each Kafka broker with the broker listener it forwards to.
     */
    public record Paths(String agentId, FaultProxy postgres, List<FaultProxy> zookeeper, List<FaultProxy> kafka,
                        List<Kafka.Listener> kafkaListeners) {

        /** Every proxy of this agent. */
        public List<FaultProxy> all() {
            List<FaultProxy> all = new ArrayList<>(List.of(postgres));
            all.addAll(zookeeper);
            all.addAll(kafka);
            return all;
        }

        /** The proxies between this agent and {@code server} (one per ZooKeeper server or Kafka broker). */
        public List<FaultProxy> to(Server server) {
            return switch (server) {
                case POSTGRES -> List.of(postgres);
                case KAFKA -> kafka;
                case ZOOKEEPER -> zookeeper;
            };
        }

        /** Cuts this agent's every path to {@code server}; {@code latency} is for {@link Cut#LATENCY}. */
        public void cut(Server server, Cut cut, Duration latency) {
            for (FaultProxy proxy : to(server)) {
                switch (cut) {
                    case BLACKHOLE -> proxy.blackhole();
                    case DROP -> proxy.drop();
                    case LATENCY -> proxy.latency(latency);
                }
            }
        }

        /** Every path to {@code server} back to passing, without latency. */
        public void heal(Server server) {
            to(server).forEach(proxy -> proxy.latency(Duration.ZERO));
        }

        /** The Kafka bootstrap list through this agent's proxies. */
        public String kafkaBootstrap() {
            return kafka.stream().map(FaultProxy::hostPort).collect(Collectors.joining(","));
        }

        /** The ZooKeeper connect string through this agent's proxies ("" without ZooKeeper). */
        public String zookeeperConnect() {
            return zookeeper.stream().map(FaultProxy::hostPort).collect(Collectors.joining(","));
        }
    }

    private final Map<String, Paths> paths = new LinkedHashMap<>();

    private AgentNetwork() {
    }

    /**
     * Proxies for agents {@code agent-1} to {@code agent-<agents>} (as {@link Cluster#start} names
     * them) to PostgreSQL on {@code postgresPort} and ZooKeeper on {@code zookeeperPort} (0: none),
     * and a Kafka listener port each on a single broker.
     */
    public static AgentNetwork start(int agents, int postgresPort, int zookeeperPort) throws IOException {
        return start(agents, postgresPort, zookeeperPort == 0 ? List.of() : List.of(zookeeperPort), 1);
    }

    /**
     * Proxies for agents {@code agent-1} to {@code agent-<agents>} to PostgreSQL on {@code postgresPort},
     * to each ZooKeeper server of {@code zookeeperPorts} (empty: none), and a listener port each on
     * each of {@code kafkaBrokers} brokers.
     */
    public static AgentNetwork start(int agents, int postgresPort, List<Integer> zookeeperPorts, int kafkaBrokers) throws IOException {
        AgentNetwork network = new AgentNetwork();
        List<FaultProxy> started = new ArrayList<>();
        try {
            for (int i = 1; i <= agents; i++) {
                String id = "agent-" + i;
                FaultProxy pg = FaultProxy.start(id + "-postgres", postgresPort);
                started.add(pg);
                List<FaultProxy> zk = new ArrayList<>();
                for (int z = 0; z < zookeeperPorts.size(); z++) {
                    String name = zookeeperPorts.size() == 1 ? id + "-zookeeper" : id + "-zookeeper-" + (z + 1);
                    zk.add(FaultProxy.start(name, zookeeperPorts.get(z)));
                    started.add(zk.get(z));
                }
                List<FaultProxy> kafka = new ArrayList<>();
                List<Kafka.Listener> listeners = new ArrayList<>();
                for (int b = 1; b <= kafkaBrokers; b++) {
                    int listenerPort = Ports.free();
                    FaultProxy proxy = FaultProxy.start(kafkaBrokers == 1 ? id + "-kafka" : id + "-kafka-" + b, listenerPort);
                    started.add(proxy);
                    kafka.add(proxy);
                    listeners.add(new Kafka.Listener("AGENT_" + i, listenerPort, proxy.port()));
                }
                network.paths.put(id, new Paths(id, pg, List.copyOf(zk), List.copyOf(kafka), List.copyOf(listeners)));
            }
        } catch (IOException | RuntimeException e) {
            for (FaultProxy proxy : started) {
                try {
                    proxy.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return network;
    }

    /** The listeners of a single broker that the agents' Kafka proxies forward to. */
    public List<Kafka.Listener> kafkaListeners() {
        return kafkaListeners(1);
    }

    /** The listeners of broker {@code broker} (from 1) that the agents' proxies to it forward to. */
    public List<Kafka.Listener> kafkaListeners(int broker) {
        return paths.values().stream().map(p -> p.kafkaListeners().get(broker - 1)).toList();
    }

    public Paths of(String agentId) {
        Paths p = paths.get(agentId);
        if (p == null) {
            throw new IllegalArgumentException("no network for " + agentId + "; agents: " + paths.keySet());
        }
        return p;
    }

    boolean has(String agentId) {
        return paths.containsKey(agentId);
    }

    /** Every path back to {@link FaultProxy#pass()} without latency. */
    public void healAll() {
        paths.values().forEach(p -> p.all().forEach(proxy -> proxy.latency(Duration.ZERO)));
    }

    @Override
    public void close() {
        List<IOException> failures = new ArrayList<>();
        for (Paths p : paths.values()) {
            for (FaultProxy proxy : p.all()) {
                try {
                    proxy.close();
                } catch (IOException e) {
                    failures.add(e);
                }
            }
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("proxies did not close: " + failures);
        }
    }
}
