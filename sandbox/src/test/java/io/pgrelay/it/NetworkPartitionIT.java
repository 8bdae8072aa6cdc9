package io.pgrelay.it;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentLog;
import io.pgrelay.sandbox.cluster.AgentNetwork;
import io.pgrelay.sandbox.cluster.AgentNetwork.Cut;
import io.pgrelay.sandbox.cluster.AgentNetwork.Server;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.FaultProxy;
import io.pgrelay.sandbox.server.Kafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three agents under a steady load, each reaching PostgreSQL, Kafka and (zookeeper mode) ZooKeeper
 * through proxies of its own ({@link AgentNetwork}); one path at a time is blackholed (open, silent)
 * or dropped (every connection reset) and later healed: the leader's to PostgreSQL, to Kafka, to
 * ZooKeeper, and a standby's to PostgreSQL; then 300 ms of latency each way on the leader's path to
 * PostgreSQL and to Kafka. For each, the time from the fault to a read_committed consumer's first
 * record of the next leader (or, for a standby's fault and for latency, proof that nothing
 * changed), and from the heal until the cut-off agent is ready again. In the end nothing lost or
 * duplicated, each key in order, epochs never going back and one agent per epoch.
 *
 * <p>{@code -Dnetfault.cases=leader-postgres-blackhole,…} runs only the named cases,
 * {@code -Dnetfault.modes=slot} only one mode.
 */
@Tag("drill")   // ./mvnw verify -Pdrills
@ExtendWith(SandboxExtension.class)
class NetworkPartitionIT {

    /** How long a fault lasts at least: past the 5 s hangTimeout and the 2 s ZooKeeper session. */
    private static final long FAULT_MS = 10_000;
    private static final String SESSION = "2s";

    private final Sandbox sandbox = Sandbox.shared();

    /** {@code Cut.LATENCY}: {@link #LATENCY} each way, which must change nothing. */
    private static final Duration LATENCY = Duration.ofMillis(300);

    /** A fault: whose path (the leader's or a standby's), to which server, how it is cut. */
    record Case(boolean leader, Server server, Cut cut) {
        String name() {
            return (leader ? "leader" : "standby") + "-" + server.name().toLowerCase() + "-" + cut.name().toLowerCase();
        }
    }

    private static List<Case> cases(String mode) {
        List<Case> all = new ArrayList<>();
        for (Server s : Server.values()) {
            if (s == Server.ZOOKEEPER && !mode.equals("zookeeper")) {
                continue;
            }
            for (Cut c : List.of(Cut.BLACKHOLE, Cut.DROP)) {
                all.add(new Case(true, s, c));
            }
        }
        all.add(new Case(false, Server.POSTGRES, Cut.BLACKHOLE));
        all.add(new Case(false, Server.POSTGRES, Cut.DROP));
        all.add(new Case(true, Server.POSTGRES, Cut.LATENCY));
        all.add(new Case(true, Server.KAFKA, Cut.LATENCY));
        String only = System.getProperty("netfault.cases", "");
        if (only.isBlank()) {
            return all;
        }
        Set<String> names = Set.of(only.split(","));
        return all.stream().filter(c -> names.contains(c.name())).toList();
    }

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void partitionsLoseDuplicateAndReorderNothing(String mode) throws Exception {
        List<Case> cases = cases(mode);
        if (cases.isEmpty() || !Set.of(System.getProperty("netfault.modes", "slot,zookeeper").split(",")).contains(mode)) {
            return;
        }
        long testStart = System.nanoTime();
        String name = ItSupport.uniqueCluster("net" + mode.charAt(0));
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AtomicBoolean stop = new AtomicBoolean();
        List<String> report = new ArrayList<>();
        int zkPort = mode.equals("zookeeper") ? Integer.parseInt(sandbox.zookeeper().connectString().replaceAll(".*:", "")) : 0;
        AgentConfigs configs = null;
        try (AgentNetwork network = AgentNetwork.start(3, sandbox.postgres().port(), zkPort);
             Kafka kafka = Kafka.start(network.kafkaListeners())) {
            configs = new AgentConfigs(sandbox, name).mode(mode).zookeeperSessionTimeout(SESSION).tables(table).network(network);
            try (Cluster cluster = Cluster.start(configs, 3);
                 LiveConsumer consumer = new LiveConsumer(kafka.bootstrapServers(), name + "." + table)) {
                CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 20, 2, 500, stop));
                List<String> failed = new ArrayList<>();
                cluster.awaitLeader(60_000);
                ItSupport.await("every agent ready", Duration.ofSeconds(60), () -> cluster.members().stream().allMatch(FailoverIT::ready));
                Set<Integer> servers = new TreeSet<>(Set.of(sandbox.postgres().port(), kafka.port()));
                network.kafkaListeners().forEach(l -> servers.add(l.port()));
                if (zkPort != 0) {
                    servers.add(zkPort);
                }
                for (Cluster.Member m : cluster.members()) {
                    assertOnlyThroughItsProxies(m, network.of(m.id()), servers);
                }
                for (Case c : cases) {
                    try {
                        report.add(fault(mode, c, cluster, network, consumer));
                    } catch (AssertionError | IllegalStateException e) {
                        // the next cases still tell something: keep the evidence, heal, go on
                        failed.add(c.name() + ": " + e.getMessage());
                        report.add(c.name() + ": FAILED " + e.getMessage());
                        keepEvidence(mode, c, cluster);
                        network.healAll();
                    }
                }
                Thread.sleep(1_000);
                stop.set(true);
                writes.get();
                Verdict verdict;
                try (Connection conn = connect()) {
                    verdict = consumer.awaitVerdict(conn, table);
                }
                List<ConsumerRecord<String, String>> records = consumer.records();
                records.stream().collect(Collectors.groupingBy(ConsumerRecord::partition)).values()
                        .forEach(FailoverIT::assertEpochsNeverGoBack);
                Map<Long, Set<String>> agentsByEpoch = new TreeMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    agentsByEpoch.computeIfAbsent(Long.parseLong(ItSupport.header(r, "pgrelay.epoch")), e -> new TreeSet<>())
                            .add(ItSupport.header(r, "pgrelay.agent"));
                }
                report.forEach(line -> System.out.println("NetworkPartitionIT " + mode + ": " + line));
                System.out.printf("NetworkPartitionIT %s: %d rows inserted; epochs and their agents %s; %s; %d s in all%n",
                        mode, load.inserted(), agentsByEpoch, verdict, (System.nanoTime() - testStart) / 1_000_000_000);
                assertThat(failed).as("cases that failed (agents' logs and stacks in target/netfault)").isEmpty();
                assertThat(verdict.clean()).as(verdict.toString()).isTrue();
                assertThat(agentsByEpoch.values()).as("agents whose records were committed, per epoch").allMatch(a -> a.size() == 1);
            }
        } finally {
            stop.set(true);
            if (configs != null) {
                ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            }
        }
    }

    /**
     * Cuts one path for at least {@link #FAULT_MS}, heals it, and returns one line for the report:
     * who noticed, when streaming resumed, when the cut-off agent was ready again.
     */
    private String fault(String mode, Case c, Cluster cluster, AgentNetwork network, LiveConsumer consumer) throws Exception {
        Cluster.Member leader = cluster.awaitLeader(60_000);
        ItSupport.await("every agent ready before " + c.name(), Duration.ofSeconds(60),
                () -> cluster.members().stream().allMatch(FailoverIT::ready));
        long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
        ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
        Cluster.Member target = c.leader() ? leader : cluster.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
        AgentNetwork.Paths paths = network.of(target.id());
        long faultMillis = System.currentTimeMillis();
        long t0 = System.nanoTime();
        System.out.printf("NetworkPartitionIT %s: %s: %s %s at %s (epoch %d)%n", mode, c.name(), c.cut(), paths.to(c.server()),
                Instant.ofEpochMilli(faultMillis), epoch);
        paths.cut(c.server(), c.cut(), LATENCY);
        String outcome;
        if (c.leader() && c.cut() != Cut.LATENCY) {
            ItSupport.await(target.id() + " no longer leading after " + c.name(), Duration.ofSeconds(90),
                    () -> !"leader".equals(AgentHttp.status(target.url()).map(j -> j.path("role").asText()).orElse("")));
            long steppedDown = (System.nanoTime() - t0) / 1_000_000;
            ItSupport.await("a record of a later epoch than " + epoch + " after " + c.name(), Duration.ofSeconds(90),
                    () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
            long again = (consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000;
            Cluster.Member next = cluster.awaitLeader(30_000);
            outcome = String.format("%s stepped down after %d ms; %s leads; streaming again %d ms after the fault",
                    target.id(), steppedDown, next.id(), again);
        } else {
            Thread.sleep(FAULT_MS);
            long sentAfter = faultMillis + 1_000;
            ItSupport.await("a record sent after the fault", Duration.ofSeconds(10), () -> consumer.firstArrivalSentAfter(sentAfter).isPresent());
            assertThat(consumer.maxEpoch()).as("epoch after %s", c.name()).isEqualTo(epoch);
            outcome = "no change of leader; records kept flowing";
        }
        long held = (System.nanoTime() - t0) / 1_000_000;
        if (held < FAULT_MS) {
            Thread.sleep(FAULT_MS - held);
        }
        long healMillis = System.currentTimeMillis();
        long t1 = System.nanoTime();
        paths.heal(c.server());
        ItSupport.await(target.id() + " ready after the heal of " + c.name(), Duration.ofSeconds(90), () -> FailoverIT.ready(target));
        long readyMs = (System.nanoTime() - t1) / 1_000_000;
        ItSupport.await("a record sent after the heal", Duration.ofSeconds(30), () -> consumer.firstArrivalSentAfter(healMillis).isPresent());
        long flowingMs = (consumer.firstArrivalSentAfter(healMillis).getAsLong() - t1) / 1_000_000;
        return String.format("%s: %s; healed after %d ms: %s ready %d ms later, a record sent after the heal read %d ms later;"
                + " noticed:%n    %s", c.name(), outcome, Math.max(held, FAULT_MS), target.id(), readyMs, flowingMs,
                String.join("\n    ", noticed(cluster, faultMillis, healMillis)));
    }

    /**
     * Every TCP connection the agent's process holds (as {@code ss} lists them) goes to one of its
     * own proxies or elsewhere (another agent's admin port), never straight to PostgreSQL, ZooKeeper
     * or a broker listener; and it does hold connections to each of its proxies.
     */
    private static void assertOnlyThroughItsProxies(Cluster.Member m, AgentNetwork.Paths paths, Set<Integer> servers)
            throws IOException, InterruptedException {
        Process ss = new ProcessBuilder("ss", "-tnpH").redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes());
        ss.waitFor();
        String owner = "pid=" + m.process().pid() + ",";
        Set<Integer> peers = new TreeSet<>();
        for (String line : out.lines().filter(l -> l.contains(owner)).toList()) {
            String peer = line.trim().split("\\s+")[4];
            peers.add(Integer.parseInt(peer.substring(peer.lastIndexOf(':') + 1)));
        }
        System.out.printf("NetworkPartitionIT: %s's connections go to ports %s; its proxies: %s%n", m.id(), peers,
                paths.all().stream().map(p -> p.name() + " " + p.port()).toList());
        assertThat(peers).as(m.id() + "'s peers (servers' own ports: " + servers + ")").doesNotContainAnyElementsOf(servers);
        for (FaultProxy proxy : paths.all()) {
            assertThat(peers).as(m.id() + "'s peers").contains(proxy.port());
        }
    }

    /** Each agent's log and thread dump, into {@code target/netfault/}, as the agents' directories go at the end. */
    private static void keepEvidence(String mode, Case c, Cluster cluster) {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of("target", "netfault"));
            for (Cluster.Member m : cluster.members()) {
                String prefix = mode + "-" + c.name() + "-" + m.id();
                java.nio.file.Files.writeString(dir.resolve(prefix + ".log"), log(m));
                if (m.process().isAlive()) {
                    new ProcessBuilder("jstack", Long.toString(m.process().pid()))
                            .redirectOutput(dir.resolve(prefix + ".jstack").toFile()).redirectErrorStream(true).start().waitFor();
                }
            }
        } catch (IOException | InterruptedException e) {
            System.err.println("NetworkPartitionIT: could not keep the evidence of " + c.name() + ": " + e);
        }
    }

    /** Every agent's first warnings and leadership lines between the fault and the heal. */
    private static List<String> noticed(Cluster cluster, long from, long to) {
        return AgentLog.noticed(cluster, from, to, 6).stream()
                .map(l -> l.agent() + " +" + (l.millis() - from) + " ms: " + l.text().substring(l.text().indexOf(' ') + 1)).toList();
    }

    private static String log(Cluster.Member m) {
        return AgentLog.of(m);
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
