package io.pgrelay.coordination;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything a {@link LeaderElection} needs; immutable, validated once in the constructor, which
 * reports every problem at once. Build one with {@link #builder(String, String)}.
 *
 * @param cluster          names the lock, the epoch and the registry
 * @param agentId          this agent's id, unique in the cluster
 * @param http             this agent's admin address, published in the registry
 * @param mode             slot race or ZooKeeper lock
 * @param slot             the replication slot the leader streams from
 * @param postgres         plain SQL connections (both modes: eviction, slot watch; slot mode: epoch, registry)
 * @param pollInterval     slot mode: how often standbys look at the slot (default 500 ms)
 * @param hangTimeout      slot mode: a walsender silent this long is evicted; both modes: a leader that cannot
 *                         confirm its slot this long abandons its term (default 5 s)
 * @param zookeeperConnect ZooKeeper mode: connect string
 * @param sessionTimeout   ZooKeeper mode: session timeout (default 3 s)
 * @param handoverWindow   how long a handover holds other agents back (default 10 s)
 * @param zookeeperAuth    ZooKeeper mode: SASL credentials and the ACLs they own, or null (no authentication, open ACLs)
 * @param zookeeperTls     ZooKeeper mode: TLS to the servers' secureClientPort, or null (plaintext)
 * @param handoverPoll     how often the named target of a handover looks at the slot (default 10 ms: only while a handover names it)
 */
public record ElectionConfig(String cluster, String agentId, String http, Mode mode, String slot,
                             ConnectionSource postgres, Duration pollInterval, Duration hangTimeout,
                             String zookeeperConnect, Duration sessionTimeout, Duration handoverWindow,
                             Duration handoverPoll, ZooKeeperAuth zookeeperAuth, ZooKeeperTls zookeeperTls) {

    /** How the cluster decides who leads. */
    public enum Mode { SLOT, ZOOKEEPER }

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    public ElectionConfig {
        List<String> problems = new ArrayList<>();
        if (cluster == null || !NAME.matcher(cluster).matches()) {
            problems.add("cluster: must match " + NAME + ", got " + cluster);
        }
        if (agentId == null || !NAME.matcher(agentId).matches()) {
            problems.add("agentId: must match " + NAME + ", got " + agentId);
        }
        if (mode == null) {
            problems.add("mode: required (slot or zookeeper)");
        }
        if (slot == null || slot.isBlank()) {
            problems.add("slot: required");
        }
        if (postgres == null) {
            problems.add("postgres: a connection source is required");
        }
        if (mode == Mode.ZOOKEEPER && (zookeeperConnect == null || zookeeperConnect.isBlank())) {
            problems.add("zookeeper.connect: required in zookeeper mode");
        }
        positive(problems, "pollInterval", pollInterval);
        positive(problems, "hangTimeout", hangTimeout);
        positive(problems, "sessionTimeout", sessionTimeout);
        positive(problems, "handoverWindow", handoverWindow);
        positive(problems, "handoverPoll", handoverPoll);
        if (problems.isEmpty() && hangTimeout.compareTo(Duration.ofSeconds(2)) < 0) {
            // the agent replies at least every second; below 2 s a live leader could look hung
            problems.add("hangTimeout: must be at least 2s (the leader replies every <=1s), got " + hangTimeout);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid election config:\n" + String.join("\n", problems));
        }
        http = Objects.requireNonNullElse(http, "");
    }

    private static void positive(List<String> problems, String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            problems.add(name + ": must be a positive duration, got " + d);
        }
    }

    /** The ZooKeeper path all of this cluster's nodes live under. */
    public String zkRoot() {
        return "/pgrelay/" + cluster;
    }

    public static Builder builder(String cluster, String agentId) {
        return new Builder(cluster, agentId);
    }

    /** Defaults first; {@link #build()} validates. */
    public static final class Builder {
        private final String cluster;
        private final String agentId;
        private String http = "";
        private Mode mode = Mode.SLOT;
        private String slot;
        private ConnectionSource postgres;
        private Duration pollInterval = Duration.ofMillis(500);
        private Duration hangTimeout = Duration.ofSeconds(5);
        private String zookeeperConnect;
        private Duration sessionTimeout = Duration.ofSeconds(3);
        private Duration handoverWindow = Duration.ofSeconds(10);
        private Duration handoverPoll = Duration.ofMillis(10);
        private ZooKeeperAuth zookeeperAuth;
        private ZooKeeperTls zookeeperTls;

        private Builder(String cluster, String agentId) {
            this.cluster = cluster;
            this.agentId = agentId;
        }

        public Builder http(String v) { http = v; return this; }
        public Builder mode(Mode v) { mode = v; return this; }
        public Builder slot(String v) { slot = v; return this; }
        public Builder postgres(ConnectionSource v) { postgres = v; return this; }
        public Builder pollInterval(Duration v) { pollInterval = v; return this; }
        public Builder hangTimeout(Duration v) { hangTimeout = v; return this; }
        public Builder handoverWindow(Duration v) { handoverWindow = v; return this; }
        public Builder handoverPoll(Duration v) { handoverPoll = v; return this; }
        public Builder sessionTimeout(Duration v) { sessionTimeout = v; return this; }
        public Builder zookeeperAuth(ZooKeeperAuth v) { zookeeperAuth = v; return this; }
        public Builder zookeeperTls(ZooKeeperTls v) { zookeeperTls = v; return this; }

        /** ZooKeeper mode with this connect string. */
        public Builder zookeeper(String connect) {
            mode = Mode.ZOOKEEPER;
            zookeeperConnect = connect;
            return this;
        }

        public ElectionConfig build() {
            return new ElectionConfig(cluster, agentId, http, mode, slot, postgres, pollInterval, hangTimeout,
                    zookeeperConnect, sessionTimeout, handoverWindow, handoverPoll, zookeeperAuth, zookeeperTls);
        }
    }
}
