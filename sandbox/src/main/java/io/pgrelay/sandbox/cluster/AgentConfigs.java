package io.pgrelay.sandbox.cluster;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.server.FailoverPair;
import io.pgrelay.sandbox.server.Postgres;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes agent configuration files pointing at the sandbox servers. */
public final class AgentConfigs {

    private final Sandbox sandbox;
    private final String cluster;
    private String mode = "slot";
    private String publication;   // null: the agent's default, pgrelay_<cluster>
    private String zookeeperSessionTimeout = "2s";
    private String zookeeperConnect;
    private String zookeeperAuth = "";
    private String zookeeperTls = "";
    private List<String> tables = List.of();
    private final Map<String, String> producer = new LinkedHashMap<>();
    private final StringBuilder extraKafka = new StringBuilder();
    private final StringBuilder extraCoordination = new StringBuilder();
    private final StringBuilder extraTop = new StringBuilder();
    private String adminToken = "";
    private final StringBuilder extraAgent = new StringBuilder();
    /**
     * {@code agent.warmUp}, off as the agent's default; {@code -Dpgrelay.it.warmUp=true} (in failsafe's
     * {@code -DargLine}) turns it on for every IT.
     */
    private boolean warmUp = Boolean.getBoolean("pgrelay.it.warmUp");
    /**
     * {@code postgres.tls}: {@code disable} unless a test asks, as the sandbox's shared server has no
     * TLS; said explicitly so that the agent does not warn that TLS was left unset.
     */
    private String postgresTls = "{ mode: disable }";
    /**
     * The agents' {@code snapshot:} section. {@code never} unless a test asks: the tests written
     * before snapshots existed count exact records, and an initial snapshot racing their first
     * writes would add snapshot events to them.
     */
    private String snapshot = "{ mode: never }";
    private String database = "postgres";
    private String user = "postgres";
    private String password = "";
    private Postgres postgres;
    private String postgresUrl;
    private String bootstrapServers;
    private AgentNetwork network;

    public AgentConfigs(Sandbox sandbox, String cluster) {
        this.sandbox = sandbox;
        this.cluster = cluster;
    }

    public AgentConfigs mode(String mode) {
        this.mode = mode;
        return this;
    }

    /** ZooKeeper mode's session timeout (default 2s). */
    public AgentConfigs zookeeperSessionTimeout(String timeout) {
        this.zookeeperSessionTimeout = timeout;
        return this;
    }

    /** ZooKeeper mode's connect string (default: the sandbox's one server). */
    public AgentConfigs zookeeperConnect(String connect) {
        this.zookeeperConnect = connect;
        return this;
    }

    /** {@code coordination.zookeeper.tls}: the agents speak TLS to ZooKeeper, trusting the CA in {@code ca}. */
    public AgentConfigs zookeeperTls(java.nio.file.Path ca) {
        this.zookeeperTls = ", tls: { ca: '" + ca + "' }";
        return this;
    }

    /** {@code coordination.zookeeper.auth}: the agents log in to ZooKeeper with SASL as this user. */
    public AgentConfigs zookeeperAuth(String username, String password) {
        this.zookeeperAuth = ", auth: { username: '" + username + "', password: '" + password + "' }";
        return this;
    }

    public AgentConfigs tables(String... tables) {
        this.tables = List.of(tables);
        return this;
    }

    public AgentConfigs producer(String key, String value) {
        producer.put(key, value);
        return this;
    }

    /** An extra line under {@code kafka:}, e.g. {@code "commitInterval: 50ms"}. */
    public AgentConfigs kafka(String line) {
        extraKafka.append("  ").append(line).append('\n');
        return this;
    }

    /** An extra line under {@code coordination:}. */
    public AgentConfigs coordination(String line) {
        extraCoordination.append("  ").append(line).append('\n');
        return this;
    }

    /** Extra top-level YAML (whole sections). */
    public AgentConfigs section(String yaml) {
        extraTop.append(yaml).append('\n');
        return this;
    }

    /** {@code snapshot: { mode: <mode>, chunkSize: <chunkSize> }} ({@code initial}, {@code never}, {@code always}). */
    public AgentConfigs snapshot(String mode, int chunkSize) {
        this.snapshot = "{ mode: " + mode + ", chunkSize: " + chunkSize + " }";
        return this;
    }

    public AgentConfigs adminToken(String token) {
        this.adminToken = token;
        return this;
    }

    /** An extra line under {@code agent:}, e.g. {@code "protectReads: true"}. */
    /** {@code agent.warmUp}. */
    public AgentConfigs warmUp(boolean on) {
        warmUp = on;
        return this;
    }

    public AgentConfigs agent(String line) {
        extraAgent.append("  ").append(line).append('\n');
        return this;
    }

    /** The {@code postgres.tls} section, as YAML flow, e.g. {@code "{ mode: verify-full, ca: /tmp/ca.pem }"}. */
    public AgentConfigs postgresTls(String flowYaml) {
        this.postgresTls = flowYaml;
        return this;
    }

    public AgentConfigs login(String database, String user, String password) {
        this.database = database;
        this.user = user;
        this.password = password;
        return this;
    }

    /** Points the agent at another PostgreSQL than the sandbox's (e.g. one started with other settings). */
    public AgentConfigs postgres(Postgres server) {
        this.postgres = server;
        return this;
    }

    /** Points the agent at a JDBC URL of its own, e.g. {@link FailoverPair#multiHostUrl} (overrides {@link #postgres}). */
    public AgentConfigs postgresUrl(String url) {
        this.postgresUrl = url;
        return this;
    }

    /** Points the agent at other Kafka brokers than the sandbox's (e.g. a port where none listens yet). */
    public AgentConfigs bootstrapServers(String servers) {
        this.bootstrapServers = servers;
        return this;
    }

    /**
     * Each agent reaches PostgreSQL, ZooKeeper and Kafka through its own proxies in {@code network}
     * (an agent the network does not know connects directly). Overrides {@link #postgres},
     * {@link #zookeeperConnect} and {@link #bootstrapServers} for the agents it knows.
     */
    public AgentConfigs network(AgentNetwork network) {
        this.network = network;
        return this;
    }

    /** {@code postgres.publication}: a publication made beforehand, instead of {@code pgrelay_<cluster>}. */
    public AgentConfigs publication(String name) {
        this.publication = name;
        return this;
    }

    public String slot() {
        return "pgrelay_" + cluster.replaceAll("[^a-z0-9_]", "_");
    }

    public String yaml(String agentId, int httpPort) {
        AgentNetwork.Paths paths = network != null && network.has(agentId) ? network.of(agentId) : null;
        String pgUrl = paths != null ? "jdbc:postgresql://" + paths.postgres().hostPort() + "/" + database
                : postgresUrl != null ? postgresUrl : (postgres == null ? sandbox.postgres() : postgres).jdbcUrl(database);
        String bootstrap = paths != null ? paths.kafkaBootstrap()
                : bootstrapServers == null ? sandbox.kafka().bootstrapServers() : bootstrapServers;
        String zkConnect = !"zookeeper".equals(mode) ? null
                : paths != null && !paths.zookeeper().isEmpty() ? paths.zookeeperConnect()
                : zookeeperConnect != null ? zookeeperConnect : sandbox.zookeeper().connectString();
        String tableList = tables.stream().map(t -> "'" + t.replace("'", "''") + "'").collect(Collectors.joining(", ", "[", "]"));
        String producerYaml = producer.entrySet().stream()
                .map(e -> e.getKey() + ": '" + e.getValue() + "'").collect(Collectors.joining(", ", "{", "}"));
        return "cluster: " + cluster + "\n"
                + "agent:\n"
                + "  id: " + agentId + "\n"
                + "  http: 127.0.0.1:" + httpPort + "\n"
                + "  adminToken: '" + adminToken + "'\n"
                + "  warmUp: " + warmUp + "\n"
                + extraAgent
                + "postgres:\n"
                + "  url: '" + pgUrl + "'\n"
                + "  user: " + user + "\n"
                + "  password: '" + password + "'\n"
                + "  tables: " + tableList + "\n"
                + "  tls: " + postgresTls + "\n"
                + (publication == null ? "" : "  publication: " + publication + "\n")
                + "kafka:\n"
                + "  bootstrapServers: " + bootstrap + "\n"
                + "  topicPrefix: " + cluster + "\n"
                + "  producer: " + producerYaml + "\n"
                + extraKafka
                + "coordination:\n"
                + "  mode: " + mode + "\n"
                + ("zookeeper".equals(mode) ? "  zookeeper: { connect: '" + zkConnect + "', sessionTimeout: " + zookeeperSessionTimeout + zookeeperAuth + zookeeperTls + " }\n" : "")
                + extraCoordination
                + "snapshot: " + snapshot + "\n"
                + extraTop;
    }
}
