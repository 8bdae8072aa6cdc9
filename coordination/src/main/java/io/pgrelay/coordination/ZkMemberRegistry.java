package io.pgrelay.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;

/**
 * ZooKeeper mode's member registry: one ephemeral znode per agent under
 * {@code /pgrelay/<cluster>/members}, holding the member as JSON. Curator's
 * {@link PersistentNode} recreates it after a session expiry. Liveness is the session itself.
 */
final class ZkMemberRegistry implements MemberRegistry {

    private static final Logger log = LoggerFactory.getLogger(ZkMemberRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CuratorFramework client;
    private final ElectionConfig config;
    private PersistentNode node;

    ZkMemberRegistry(CuratorFramework client, ElectionConfig config) {
        this.client = client;
        this.config = config;
    }

    @Override
    public synchronized void start(Role role) throws Exception {
        node = new PersistentNode(client, CreateMode.EPHEMERAL, false,
                config.zkRoot() + "/members/" + config.agentId(), encode(role, 0));
        AtomicInteger drops = new AtomicInteger();
        ConnectionStateListener counter = (c, state) -> {
            if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
                drops.incrementAndGet();
            }
        };
        client.getConnectionStateListenable().addListener(counter);
        try {
            node.start();
            if (!node.waitForInitialCreate(config.sessionTimeout().toMillis() * 2, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("member znode not created within "
                        + config.sessionTimeout().toMillis() * 2 + " ms (ZooKeeper " + config.zookeeperConnect() + ")"
                        + dropped(drops.get()));
            }
        } finally {
            client.getConnectionStateListenable().removeListener(counter);
        }
    }

    /** What repeated drops of an accepted connection suggest; empty when there were none. */
    private String dropped(int drops) {
        if (drops < 2) {
            return "";
        }
        return ": the server closed the connection " + drops + " times after accepting it; " + (config.zookeeperAuth() == null
                ? "a ZooKeeper that requires authentication (enforce.auth.enabled) closes a client without credentials"
                        + " that way: set coordination.zookeeper.auth"
                : "check coordination.zookeeper.auth (user " + config.zookeeperAuth().username() + ") and the server's log");
    }

    @Override
    public synchronized void publish(Role role, long epoch) throws Exception {
        if (node != null) {
            node.setData(encode(role, epoch));
        }
    }

    @Override
    public void heartbeat() {
        // the ephemeral node lives as long as the session
    }

    @Override
    public List<Member> members() throws Exception {
        return read(client, config.zkRoot());
    }

    @Override
    public synchronized void close() {
        if (node != null) {
            try {
                node.close();
            } catch (IOException e) {
                log.warn("agent {}: could not remove its member znode: {}", config.agentId(), e.toString());
            }
            node = null;
        }
    }

    static List<Member> read(String connect, String cluster, ZooKeeperAuth auth, ZooKeeperTls tls) throws Exception {
        try (CuratorFramework c = ZooKeeperClients.build(connect, Duration.ofSeconds(10), Duration.ofSeconds(5), auth, tls,
                new RetryOneTime(200))) {
            ZooKeeperClients.connect(c, connect, tls, Duration.ofSeconds(5), "");
            return read(c, "/pgrelay/" + cluster);
        }
    }

    static List<Member> read(CuratorFramework client, String root) throws Exception {
        List<String> ids;
        try {
            ids = client.getChildren().forPath(root + "/members");
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
        List<Member> members = new ArrayList<>();
        for (String id : ids.stream().sorted().toList()) {
            try {
                members.add(decode(client.getData().forPath(root + "/members/" + id)));
            } catch (KeeperException.NoNodeException gone) {
                // left between the two reads
            }
        }
        return members;
    }

    private byte[] encode(Role role, long epoch) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", config.agentId());
        m.put("http", config.http());
        m.put("role", role.wireName());
        m.put("epoch", epoch);
        m.put("updatedAt", Instant.now().toString());
        return JSON.writeValueAsBytes(m);
    }

    private static Member decode(byte[] data) throws IOException {
        JsonNode n = JSON.readTree(data);
        return new Member(n.get("id").asText(), n.get("http").asText(), Role.fromWireName(n.get("role").asText()),
                n.get("epoch").asLong(), Instant.parse(n.get("updatedAt").asText()));
    }
}
