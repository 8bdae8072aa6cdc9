package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.server.FaultProxy;
import io.pgrelay.sandbox.server.Kafka;
import io.pgrelay.sandbox.server.Ports;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each agent's own network path to PostgreSQL, ZooKeeper and Kafka: a {@link FaultProxy} per agent
 * and server, so that one agent can be cut off from one server while the others still reach it.
 *
 * <p>Kafka needs more than a proxy in front of the bootstrap address: after bootstrapping, a client
 * connects to the broker's advertised listener. So each agent gets a listener of its own on the
 * broker ({@link #kafkaListeners()}, to pass to {@link Kafka#start(List)}), which advertises that
 * agent's proxy: the agent's producer, checkpoint reader and admin client all connect through it.
 * Start the network first, then the broker.
 */
public final class AgentNetwork implements AutoCloseable {

    /** One agent's proxies; {@code zookeeper} is null when the network was started without ZooKeeper. */
    public record Paths(String agentId, FaultProxy postgres, FaultProxy zookeeper, FaultProxy kafka, Kafka.Listener kafkaListener) {

        /** Every proxy of this agent. */
        public List<FaultProxy> all() {
            return zookeeper == null ? List.of(postgres, kafka) : List.of(postgres, zookeeper, kafka);
        }
    }

    private final Map<String, Paths> paths = new LinkedHashMap<>();

    private AgentNetwork() {
    }

    /**
     * Proxies for agents {@code agent-1} to {@code agent-<agents>} (as {@link Cluster#start} names
     * them) to PostgreSQL on {@code postgresPort} and ZooKeeper on {@code zookeeperPort} (0: none),
     * and a Kafka listener port each.
     */
    public static AgentNetwork start(int agents, int postgresPort, int zookeeperPort) throws IOException {
        AgentNetwork network = new AgentNetwork();
        List<FaultProxy> started = new ArrayList<>();
        try {
            for (int i = 1; i <= agents; i++) {
                String id = "agent-" + i;
                FaultProxy pg = FaultProxy.start(id + "-postgres", postgresPort);
                started.add(pg);
                FaultProxy zk = null;
                if (zookeeperPort != 0) {
                    zk = FaultProxy.start(id + "-zookeeper", zookeeperPort);
                    started.add(zk);
                }
                int listenerPort = Ports.free();
                FaultProxy kafka = FaultProxy.start(id + "-kafka", listenerPort);
                started.add(kafka);
                Kafka.Listener listener = new Kafka.Listener("AGENT_" + i, listenerPort, kafka.port());
                network.paths.put(id, new Paths(id, pg, zk, kafka, listener));
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

    /** The broker listeners the agents' Kafka proxies forward to. */
    public List<Kafka.Listener> kafkaListeners() {
        return paths.values().stream().map(Paths::kafkaListener).toList();
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
        paths.values().forEach(p -> p.all().forEach(proxy -> proxy.latency(java.time.Duration.ZERO)));
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
