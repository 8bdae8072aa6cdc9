package io.pgrelay.sandbox.demo;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The failover drill: kills the leader N times under load (SIGKILL), prints how long each takeover
 * took, then a verdict from a {@code read_committed} consumer — rows expected, found, missing,
 * duplicated, out of order. Exit status 0 only when every takeover happened and the verdict is clean.
 *
 * <p>Against a running {@code ./scripts/demo} (found through its state file), against agents
 * named by options, or {@code --standalone}: its own sandbox, three agents and a load. Killed agents
 * are brought back by whoever runs them (the demo restarts them after 3 s; so does standalone).
 */
public final class FailoverDrill {

    private static final String USAGE = """
            usage: failover-drill [--kills N] [--state FILE]
                   failover-drill [--kills N] --agents URL,URL,… --bootstrap HOST:PORT --topic T --jdbc URL [--user U] [--password P] --table T
                   failover-drill [--kills N] --standalone [--agents-count N] [--rate ROWS_PER_S] [--mode slot|zookeeper]
              --kills N      leaders to kill, one after another (default 3)
              --state FILE   a running demo's state (default ${TMPDIR:-/tmp}/pgrelay-demo/state.json)
              --timeout S    longest wait for a takeover or for the records, seconds (default 60)
            The table must be written like the demo's load: (id bigint primary key, version int, …).
            Exit status: 0 clean, 1 a takeover failed or the verdict is not clean, 2 bad usage.""";

    record Target(List<String> agentUrls, String bootstrapServers, String topic, String jdbcUrl, String user,
                  String password, String table) {
    }

    record Options(int kills, Optional<Path> state, Optional<Target> explicit, boolean standalone, int agents, int rate,
                   String mode, Duration timeout) {

        static Options parse(String[] args) {
            int kills = 3;
            Path state = null;
            String agents = null;
            String bootstrap = null;
            String topic = null;
            String jdbc = null;
            String user = "postgres";
            String password = "";
            String table = null;
            boolean standalone = false;
            int agentsCount = 3;
            int rate = 500;
            String mode = "slot";
            int timeout = 60;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--kills" -> kills = positive(value(args, ++i), "--kills");
                    case "--state" -> state = Path.of(value(args, ++i));
                    case "--agents" -> agents = value(args, ++i);
                    case "--bootstrap" -> bootstrap = value(args, ++i);
                    case "--topic" -> topic = value(args, ++i);
                    case "--jdbc" -> jdbc = value(args, ++i);
                    case "--user" -> user = value(args, ++i);
                    case "--password" -> password = value(args, ++i);
                    case "--table" -> table = value(args, ++i);
                    case "--standalone" -> standalone = true;
                    case "--agents-count" -> agentsCount = positive(value(args, ++i), "--agents-count");
                    case "--rate" -> rate = positive(value(args, ++i), "--rate");
                    case "--mode" -> mode = value(args, ++i);
                    case "--timeout" -> timeout = positive(value(args, ++i), "--timeout");
                    case "-h", "--help" -> throw new Help();
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            Target explicit = null;
            if (agents != null || bootstrap != null || topic != null || jdbc != null || table != null) {
                List<String> missing = new ArrayList<>();
                if (agents == null) {
                    missing.add("--agents");
                }
                if (bootstrap == null) {
                    missing.add("--bootstrap");
                }
                if (topic == null) {
                    missing.add("--topic");
                }
                if (jdbc == null) {
                    missing.add("--jdbc");
                }
                if (table == null) {
                    missing.add("--table");
                }
                if (!missing.isEmpty()) {
                    throw new IllegalArgumentException("naming the agents also needs " + String.join(", ", missing));
                }
                explicit = new Target(Arrays.stream(agents.split(",")).map(String::trim).map(FailoverDrill::stripSlash).toList(),
                        bootstrap, topic, jdbc, user, password, table);
            }
            if (standalone && (explicit != null || state != null)) {
                throw new IllegalArgumentException("--standalone starts its own cluster: it takes no --state or --agents");
            }
            if (!mode.equals("slot") && !mode.equals("zookeeper")) {
                throw new IllegalArgumentException("--mode must be slot or zookeeper, not " + mode);
            }
            if (standalone && agentsCount < 2) {
                throw new IllegalArgumentException("--agents-count must be at least 2: someone has to take over");
            }
            return new Options(kills, Optional.ofNullable(state), Optional.ofNullable(explicit), standalone, agentsCount,
                    rate, mode, Duration.ofSeconds(timeout));
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(args[i - 1] + " needs a value");
            }
            return args[i];
        }

    }

    private static final class Help extends RuntimeException {
    }

    /** A command-line number of at least 1 (this drill's and the chaos drill's options). */
    public static int positive(String text, String option) {
        try {
            int n = Integer.parseInt(text);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a whole number of at least 1, not " + text);
    }

    /** One kill: who, and how long until another agent led and until its first record was read. */
    record Takeover(String killed, long pid, long epoch, String newLeader, long leaderMillis, long firstRecordMillis) {
        @Override
        public String toString() {
            return String.format("killed %s (pid %d, epoch %d): %s leads after %d ms, its first record read after %d ms",
                    killed, pid, epoch, newLeader, leaderMillis, firstRecordMillis);
        }
    }

    private FailoverDrill() {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (Help h) {
            System.out.println(USAGE);
            System.exit(0);
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("failover-drill: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        int status;
        try {
            status = options.standalone() ? standalone(options) : againstRunning(options);
        } catch (Exception e) {
            System.err.println("failover-drill: " + e.getMessage());
            status = 1;
        }
        System.exit(status);
    }

    private static int againstRunning(Options options) throws Exception {
        Target target;
        if (options.explicit().isPresent()) {
            target = options.explicit().get();
        } else {
            Path file = options.state().orElse(DemoState.defaultPath());
            if (!Files.isRegularFile(file)) {
                System.err.println("failover-drill: no running demo (" + file + " does not exist); start ./scripts/demo,"
                        + " name the agents with --agents …, or run --standalone");
                return 2;
            }
            DemoState s = DemoState.read(file);
            target = new Target(s.agents().stream().map(DemoState.Agent::url).toList(), s.bootstrapServers(), s.topic(),
                    s.jdbcUrl(), s.user(), "", s.table());
            System.out.println("drilling the demo of " + file + ": " + target.agentUrls().size() + " agents, topic "
                    + target.topic());
        }
        return drill(target, options, () -> { });
    }

    private static int standalone(Options options) throws Exception {
        System.out.println("starting PostgreSQL, Kafka and ZooKeeper…");
        try (Sandbox sandbox = Sandbox.start()) {
            String table = "public.drill_load";
            LoadGenerator load = new LoadGenerator(sandbox.postgres().connections(), table);
            load.createTable();
            AgentConfigs configs = new AgentConfigs(sandbox, "drill").mode(options.mode()).tables(table);
            System.out.println("starting " + options.agents() + " agents in " + options.mode() + " mode…");
            AtomicBoolean stopLoad = new AtomicBoolean();
            try (Cluster cluster = Cluster.start(configs, options.agents())) {
                cluster.restartDeadMembers(Duration.ofSeconds(3), m -> System.out.println("  (" + m.id() + " restarted)"));
                cluster.awaitLeader(options.timeout().toMillis());
                Thread loader = new Thread(() -> load.write(Long.MAX_VALUE, 10, 2, options.rate(), stopLoad), "drill-load");
                loader.setDaemon(true);
                loader.start();
                System.out.println("load: ~" + options.rate() + " rows/s into " + table);
                Target target = new Target(cluster.members().stream().map(Cluster.Member::url).toList(),
                        sandbox.kafka().bootstrapServers(), "drill." + table, sandbox.postgres().jdbcUrl(),
                        sandbox.postgres().superuser(), "", table);
                return drill(target, options, () -> {
                    stopLoad.set(true);
                    try {
                        loader.join(10_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            } finally {
                stopLoad.set(true);
            }
        }
    }

    /** Kills, measures, then judges; {@code beforeVerdict} may stop a load the drill owns. */
    private static int drill(Target target, Options options, Runnable beforeVerdict) throws Exception {
        List<Takeover> takeovers = new ArrayList<>();
        boolean failed = false;
        try (LiveConsumer consumer = new LiveConsumer(target.bootstrapServers(), target.topic())) {
            for (int kill = 1; kill <= options.kills(); kill++) {
                Optional<Takeover> t = killLeader(target, consumer, options.timeout());
                if (t.isEmpty()) {
                    failed = true;
                    break;
                }
                takeovers.add(t.get());
                System.out.println("kill " + kill + "/" + options.kills() + ": " + t.get());
            }
            if (!takeovers.isEmpty()) {
                List<Long> firsts = takeovers.stream().map(Takeover::firstRecordMillis).sorted().toList();
                System.out.println("takeover (kill → first record of the new leader read): median "
                        + firsts.get(firsts.size() / 2) + " ms, worst " + firsts.get(firsts.size() - 1) + " ms");
            }
            beforeVerdict.run();
            Verdict verdict = judge(target, consumer, options.timeout());
            System.out.println("verdict: " + verdict);
            return failed || !verdict.clean() ? 1 : 0;
        }
    }

    private static Optional<Takeover> killLeader(Target target, LiveConsumer consumer, Duration timeout)
            throws IOException, InterruptedException {
        // A leader, a standby to take over, and records of the leader's epoch already read.
        String[] leaderUrl = new String[1];
        long[] epoch = new long[1];
        if (!await("a leader, a standby and the leader's records", timeout, () -> {
            Optional<JsonNode> leader = Optional.empty();
            int standbys = 0;
            for (String url : target.agentUrls()) {
                Optional<JsonNode> s = AgentHttp.status(url);
                String role = s.map(j -> j.path("role").asText()).orElse("");
                if (role.equals("leader")) {
                    leader = s;
                    leaderUrl[0] = url;
                } else if (role.equals("standby")) {
                    standbys++;
                }
            }
            if (leader.isEmpty() || standbys == 0) {
                return false;
            }
            epoch[0] = leader.get().path("epoch").asLong();
            return consumer.maxEpoch() >= epoch[0];
        })) {
            return Optional.empty();
        }
        String killedId = AgentHttp.status(leaderUrl[0]).map(j -> j.path("agent").asText()).orElse(leaderUrl[0]);
        int port = URI.create(leaderUrl[0]).getPort();
        Optional<ProcessHandle> process = ListeningProcess.of(port);
        if (process.isEmpty() || !process.get().info().commandLine().orElse("").contains("pgrelay-agent")) {
            System.err.println("failover-drill: no pgrelay agent process of this user listens on port " + port
                    + " (" + leaderUrl[0] + "); the drill kills only agents on this machine");
            return Optional.empty();
        }
        long pid = process.get().pid();
        long t0 = System.nanoTime();
        process.get().destroyForcibly();
        String[] newLeader = new String[1];
        long[] leaderAt = new long[1];
        boolean led = await("another agent to lead after killing " + killedId, timeout, () -> {
            for (String url : target.agentUrls()) {
                if (url.equals(leaderUrl[0])) {
                    continue;
                }
                Optional<JsonNode> s = AgentHttp.status(url);
                if (s.isPresent() && s.get().path("role").asText().equals("leader") && s.get().path("epoch").asLong() > epoch[0]) {
                    newLeader[0] = s.get().path("agent").asText();
                    leaderAt[0] = System.nanoTime();
                    return true;
                }
            }
            return false;
        });
        if (!led || !await("the new leader's first record", timeout, () -> consumer.firstArrivalAfterEpoch(epoch[0]).isPresent())) {
            return Optional.empty();
        }
        long firstRecord = consumer.firstArrivalAfterEpoch(epoch[0]).orElseThrow();
        return Optional.of(new Takeover(killedId, pid, epoch[0], newLeader[0], (leaderAt[0] - t0) / 1_000_000,
                Math.max(0, firstRecord - t0) / 1_000_000));
    }

    /**
     * Takes the table's current versions, waits until the consumer read every one of them, then
     * judges. The load may still be running (the demo's): versions written after the look are
     * left out of "expected" and "found", but still count for order and duplicates.
     */
    private static Verdict judge(Target target, LiveConsumer consumer, Duration timeout) throws SQLException, InterruptedException {
        Map<Long, Integer> versions;
        try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password())) {
            versions = Verdict.finalVersions(c, target.table());
        }
        long expected = Verdict.expectedEvents(versions);
        System.out.println("waiting for the " + expected + " row versions in " + target.table() + " to be read…");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Verdict.upTo(consumer.records(), versions).missing() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
        }
        Thread.sleep(2_000); // a duplicate would come right after
        return Verdict.upTo(consumer.records(), versions);
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static boolean await(String what, Duration timeout, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (done.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        System.err.println("failover-drill: gave up waiting for " + what + " after " + timeout.toSeconds() + " s");
        return false;
    }
}
