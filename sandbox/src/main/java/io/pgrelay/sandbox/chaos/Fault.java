package io.pgrelay.sandbox.chaos;

import io.pgrelay.sandbox.cluster.AgentNetwork;
import io.pgrelay.sandbox.cluster.AgentNetwork.Cut;
import io.pgrelay.sandbox.cluster.AgentNetwork.Server;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.server.KafkaCluster;
import io.pgrelay.sandbox.server.ZooKeeperEnsemble;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One fault of the chaos drill: what it breaks, for how long, and how it is healed. {@link #kind()}
 * names the row of the drill's table; {@link #inject} names the victim (which agent, broker or
 * server) as it is at that moment.
 */
sealed interface Fault {

    /** Held this long before the heal; zero when the cluster heals itself (a killed agent is restarted 3 s later). */
    Duration hold();

    /** The table's row: the same for every fault of this kind, whatever the victim and the hold. */
    String kind();

    /** Breaks it now, {@code leader} being the agent that leads; returns what was done and how to heal it. */
    Injected inject(ChaosCluster c, Cluster.Member leader, Random random) throws Exception;

    /** A fault in place: what was broken, and how to heal it. */
    record Injected(String what, Heal heal) {
    }

    @FunctionalInterface
    interface Heal {
        void heal() throws Exception;
    }

    /** Every kind of fault of {@code mode}, each with a hold drawn from {@code random}. */
    static List<Fault> catalogue(String mode, Random random) {
        List<Fault> all = new ArrayList<>();
        all.add(new AgentKill(true));
        all.add(new AgentKill(false));
        all.add(new AgentPause(seconds(random, 6, 12)));
        all.add(new BrokerKill(BrokerKill.Victim.BUSIEST_PARTITION_LEADER, seconds(random, 3, 10)));
        all.add(new BrokerKill(BrokerKill.Victim.TRANSACTION_COORDINATOR, seconds(random, 3, 10)));
        // past the producer's transaction timeout: the coordinator aborts the open transaction meanwhile
        all.add(new BrokerKill(BrokerKill.Victim.BUSIEST_PARTITION_LEADER,
                ChaosCluster.TRANSACTION_TIMEOUT.plus(seconds(random, 3, 8))));
        List<Server> servers = new ArrayList<>(List.of(Server.POSTGRES, Server.KAFKA));
        if (mode.equals("zookeeper")) {
            servers.add(Server.ZOOKEEPER);
            all.add(new ZooKeeperKill(true, seconds(random, 3, 10)));
            all.add(new ZooKeeperKill(false, seconds(random, 3, 10)));
            all.add(new ZooKeeperQuorumLoss(seconds(random, 5, 12)));
        }
        for (Server s : servers) {
            // past the 5 s hangTimeout and the 2 s ZooKeeper session: long enough for a takeover. A leader cut off
            // from Kafka gives up after the producer's max.block.ms (30 s): sometimes it is healed before, sometimes not
            int longest = s == Server.KAFKA ? 40 : 14;
            all.add(new NetworkCut(true, s, Cut.DROP, seconds(random, 8, longest)));
            all.add(new NetworkCut(true, s, Cut.BLACKHOLE, seconds(random, 8, longest)));
            all.add(new NetworkCut(true, s, Cut.LATENCY, seconds(random, 8, 14)));
        }
        all.add(new NetworkCut(false, Server.POSTGRES, Cut.DROP, seconds(random, 8, 14)));
        all.add(new NetworkCut(false, Server.POSTGRES, Cut.BLACKHOLE, seconds(random, 8, 14)));
        return all;
    }

    /** 300 ms each way: slow, but well within every timeout; nothing should change but the lag. */
    Duration LATENCY = Duration.ofMillis(300);

    private static Duration seconds(Random random, int min, int max) {
        return Duration.ofMillis(min * 1000L + random.nextInt((max - min) * 1000 + 1));
    }

    private static Cluster.Member standby(ChaosCluster c, Cluster.Member leader, Random random) {
        List<Cluster.Member> others = c.agents.members().stream().filter(m -> m != leader).toList();
        return others.get(random.nextInt(others.size()));
    }

    /** SIGKILL of the leading agent or of a standby; restarted 3 s later. */
    record AgentKill(boolean leader) implements Fault {
        public Duration hold() {
            return Duration.ZERO;
        }

        public String kind() {
            return "agent SIGKILL, " + (leader ? "leader" : "standby");
        }

        public Injected inject(ChaosCluster c, Cluster.Member lead, Random random) throws Exception {
            Cluster.Member victim = leader ? lead : standby(c, lead, random);
            long pid = victim.process().pid();
            victim.process().kill();
            return new Injected("SIGKILL " + victim.id() + " (pid " + pid + ", " + (leader ? "leader" : "standby") + ")", () -> { });
        }
    }

    /** SIGSTOP of the leading agent, SIGCONT after the hold: a hang with every connection open. */
    record AgentPause(Duration hold) implements Fault {
        public String kind() {
            return "agent SIGSTOP/SIGCONT, leader";
        }

        public Injected inject(ChaosCluster c, Cluster.Member leader, Random random) throws Exception {
            leader.process().pause();
            return new Injected("SIGSTOP " + leader.id() + " for " + hold.toMillis() + " ms", leader.process()::resume);
        }
    }

    /** SIGKILL of a Kafka broker, started again after the hold (on its data). */
    record BrokerKill(Victim victim, Duration hold) implements Fault {
        enum Victim { BUSIEST_PARTITION_LEADER, TRANSACTION_COORDINATOR }

        public String kind() {
            if (hold.compareTo(ChaosCluster.TRANSACTION_TIMEOUT) > 0) {
                return "broker SIGKILL, down past the transaction timeout";
            }
            return victim == Victim.TRANSACTION_COORDINATOR ? "broker SIGKILL, transaction coordinator"
                    : "broker SIGKILL, busiest partition's leader";
        }

        public Injected inject(ChaosCluster c, Cluster.Member leader, Random random) throws Exception {
            KafkaCluster.Broker broker;
            String role;
            if (victim == Victim.TRANSACTION_COORDINATOR) {
                String id = "pgrelay-" + ChaosCluster.CLUSTER;
                broker = c.kafka.coordinatorOf(id);
                role = "coordinator of " + id;
            } else {
                TopicPartition busiest = c.kafka.busiestPartition(ChaosCluster.TOPIC);
                broker = c.kafka.leaderOf(busiest);
                role = "leader of " + busiest;
            }
            broker.kill();
            return new Injected("SIGKILL " + broker + " (" + role + "), down " + hold.toMillis() + " ms", () -> {
                broker.start();
                c.kafka.awaitBrokers(List.of(broker), 180_000);
            });
        }
    }

    /** SIGKILL of the ZooKeeper ensemble's leader or of a follower (a quorum remains), started again after the hold. */
    record ZooKeeperKill(boolean leader, Duration hold) implements Fault {
        public String kind() {
            return "ZooKeeper SIGKILL, " + (leader ? "ensemble leader" : "follower");
        }

        public Injected inject(ChaosCluster c, Cluster.Member agent, Random random) throws Exception {
            ZooKeeperEnsemble.Node zkLeader = c.zookeeper.awaitLeader(10_000);
            ZooKeeperEnsemble.Node node = leader ? zkLeader
                    : c.zookeeper.nodes().stream().filter(n -> n != zkLeader).toList().get(random.nextInt(2));
            node.kill();
            return new Injected("SIGKILL " + node + (leader ? " (leader)" : " (follower)") + ", down " + hold.toMillis() + " ms",
                    node::start);
        }
    }

    /** SIGKILL of two of the three ZooKeeper servers, the leader among them: no quorum until they are back. */
    record ZooKeeperQuorumLoss(Duration hold) implements Fault {
        public String kind() {
            return "ZooKeeper quorum lost, restored";
        }

        public Injected inject(ChaosCluster c, Cluster.Member agent, Random random) throws Exception {
            ZooKeeperEnsemble.Node zkLeader = c.zookeeper.awaitLeader(10_000);
            List<ZooKeeperEnsemble.Node> followers = c.zookeeper.nodes().stream().filter(n -> n != zkLeader).toList();
            List<ZooKeeperEnsemble.Node> lost = List.of(zkLeader, followers.get(random.nextInt(followers.size())));
            for (ZooKeeperEnsemble.Node n : lost) {
                n.kill();
            }
            return new Injected("SIGKILL " + lost + ", down " + hold.toMillis() + " ms", () -> {
                for (ZooKeeperEnsemble.Node n : lost) {
                    n.start();
                }
            });
        }
    }

    /** One agent's every path to one server cut ({@link AgentNetwork.Paths#cut}), healed after the hold. */
    record NetworkCut(boolean leader, Server server, Cut cut, Duration hold) implements Fault {
        public String kind() {
            String how = cut == Cut.LATENCY ? "latency " + LATENCY.toMillis() + " ms" : cut.name().toLowerCase();
            return "network " + how + ", " + (leader ? "leader" : "standby") + " ↔ " + server.name().toLowerCase();
        }

        public Injected inject(ChaosCluster c, Cluster.Member lead, Random random) {
            Cluster.Member victim = leader ? lead : standby(c, lead, random);
            AgentNetwork.Paths paths = c.network.of(victim.id());
            paths.cut(server, cut, LATENCY);
            return new Injected(cut.name().toLowerCase() + " " + victim.id() + " ↔ " + server.name().toLowerCase() + " ("
                    + paths.to(server).size() + " proxies) for " + hold.toMillis() + " ms", () -> paths.heal(server));
        }
    }
}
