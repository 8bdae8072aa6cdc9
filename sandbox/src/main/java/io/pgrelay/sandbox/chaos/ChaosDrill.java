package io.pgrelay.sandbox.chaos;

import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.demo.FailoverDrill;
import io.pgrelay.sandbox.cluster.AgentLog;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.KafkaCluster;

import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * The chaos drill ({@code scripts/chaos}): for {@code --minutes}, one fault after another drawn at
 * random from every kind of {@link Fault} — agents SIGKILLed and SIGSTOPped, Kafka brokers and
 * ZooKeeper servers SIGKILLed and restarted, an agent's path to a server dropped, blackholed or
 * slowed — against {@link ChaosCluster} under a steady load, while {@link ChaosVerifier} judges
 * every record. After each fault it measures how long until a row committed after the fault was
 * read, and reads the agents' logs for who noticed. Prints each fault as it happens, then a table
 * per kind of fault and the verdict. Exit status: 0 clean, 1 a rule broken (a row lost,
 * duplicated or out of order, an epoch going back, two agents in one epoch) or the cluster stuck,
 * 2 bad usage.
 */
public final class ChaosDrill {

    private static final String USAGE = """
            usage: chaos --minutes N [--mode slot|zookeeper] [--seed S] [--rate ROWS_PER_S] [--only TEXT]…
              --minutes N   how long to inject faults (whole minutes, at least 1)
              --mode M      how the agents elect their leader: slot (default) or zookeeper
              --seed S      the random schedule's seed (default: drawn, and printed to run it again)
              --rate R      rows inserted a second, in transactions of 10 inserts and 2 updates (default 200)
              --only TEXT   only the kinds of fault whose name (as in the table) contains TEXT, e.g. "leader ↔ kafka";
                            repeat it for several
            Starts its own PostgreSQL, three Kafka brokers, in zookeeper mode three ZooKeeper servers, and
            three agents, each agent reaching each server through a proxy of its own.
            Exit status: 0 clean, 1 rows lost, duplicated or reordered, an epoch going back, two agents in
            one epoch, or the cluster stuck; 2 bad usage.""";

    /** How long the cluster may take to stream again after a heal, or to be whole again before a fault, before it counts as stuck. */
    static final Duration STUCK = Duration.ofSeconds(120);

    record Options(Duration duration, String mode, long seed, int rate, List<String> only) {

        static Options parse(String[] args) {
            Duration duration = null;
            String mode = "slot";
            Long seed = null;
            int rate = 200;
            List<String> only = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--minutes" -> duration = Duration.ofMinutes(FailoverDrill.positive(value(args, ++i), "--minutes"));
                    // not in the usage: for the drill's own test, which runs for less than a minute per mode
                    case "--seconds" -> duration = Duration.ofSeconds(FailoverDrill.positive(value(args, ++i), "--seconds"));
                    case "--mode" -> mode = value(args, ++i);
                    case "--seed" -> seed = parseSeed(value(args, ++i));
                    case "--rate" -> rate = FailoverDrill.positive(value(args, ++i), "--rate");
                    case "--only" -> only.add(value(args, ++i));
                    case "-h", "--help" -> throw new Help();
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (duration == null) {
                throw new IllegalArgumentException("--minutes is required");
            }
            if (!mode.equals("slot") && !mode.equals("zookeeper")) {
                throw new IllegalArgumentException("--mode must be slot or zookeeper, not " + mode);
            }
            Options options = new Options(duration, mode, seed == null ? new Random().nextLong() : seed, rate, List.copyOf(only));
            if (Fault.catalogue(mode, new Random()).stream().noneMatch(options::selects)) {
                throw new IllegalArgumentException("--only names no kind of fault of " + mode + " mode");
            }
            return options;
        }

        /** Whether {@code --only} lets {@code fault} in. */
        boolean selects(Fault fault) {
            return only.isEmpty() || only.stream().anyMatch(o -> fault.kind().contains(o));
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(args[i - 1] + " needs a value");
            }
            return args[i];
        }

        private static long parseSeed(String text) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--seed must be a whole number, not " + text);
            }
        }

    }

    private static final class Help extends RuntimeException {
    }

    private final Options options;
    private final PrintStream out;
    private final long startNanos = System.nanoTime();

    private ChaosDrill(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public static void main(String[] args) {
        // the verifier's and the admin client's retries while a broker is down: the drill says what happens itself
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.apache.kafka"))
                .setLevel(ch.qos.logback.classic.Level.ERROR);
        System.exit(run(System.out, args));
    }

    /** Runs the drill as {@code scripts/chaos} does, printing to {@code out}; returns the exit status. */
    public static int run(PrintStream out, String... args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (Help h) {
            out.println(USAGE);
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("chaos: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        try {
            return new ChaosDrill(options, out).drill();
        } catch (Exception e) {
            System.err.println("chaos: " + e);
            e.printStackTrace();
            return 1;
        }
    }

    private int drill() throws Exception {
        say("chaos drill: " + options.mode() + " mode, " + options.duration().toMinutes() + " min ("
                + options.duration().toSeconds() + " s), seed " + options.seed() + ", ~" + options.rate() + " rows/s");
        Random random = new Random(options.seed());
        List<Outcome> outcomes = new ArrayList<>();
        List<String> stuck = new ArrayList<>();
        Verdict verdict;
        ChaosVerifier verifier = null;
        try (ChaosCluster c = ChaosCluster.start(options.mode(), options.rate(), this::say)) {
            c.startLoad(STUCK);
            say(c.agents.awaitLeader(STUCK.toMillis()).id() + " leads; load started; waiting for its records and for every agent to be ready…");
            // the agent creates the topic with the first row it streams; the verifier waits for it
            verifier = new ChaosVerifier(c.kafka.bootstrapServers(), ChaosCluster.TOPIC);
            ChaosVerifier v = verifier;
            if (!awaitWhole(c, v)) {
                stuck.add("the cluster was never whole: " + whole(c, v).orElse("?"));
            }
            long deadline = System.nanoTime() + options.duration().toNanos();
            List<Fault> round = new ArrayList<>();
            while (stuck.isEmpty() && System.nanoTime() < deadline) {
                if (round.isEmpty()) {
                    // every kind once a round, in a random order, each with a hold of its own
                    Fault.catalogue(options.mode(), random).stream().filter(options::selects).forEach(round::add);
                    Collections.shuffle(round, random);
                }
                Outcome o = inject(c, v, round.remove(0), outcomes.size() + 1, random);
                outcomes.add(o);
                say(o.line());
                if (o.streamingAgainMillis() < 0) {
                    stuck.add("#" + o.number() + " " + o.what() + ": no row committed after the fault was read within "
                            + STUCK.toSeconds() + " s of the heal");
                    c.network.healAll();
                }
                if (!awaitWhole(c, v)) {
                    stuck.add("after #" + o.number() + " " + o.what() + ": not whole again within " + STUCK.toSeconds() + " s: "
                            + whole(c, v).orElse("?"));
                    break;
                }
                // calm between faults: a few seconds of plain streaming
                Thread.sleep(2_000 + random.nextInt(4_000));
            }
            c.network.healAll();
            say("faults over (" + outcomes.size() + "); stopping the load and reading the last records…");
            c.stopLoad();
            try (Connection conn = c.postgres.connect()) {
                verdict = v.finish(conn, ChaosCluster.TABLE, STUCK);
            }
            out.println();
            for (Cluster.Member m : c.agents.members()) {
                out.println(m.id() + " at the end: " + AgentHttp.status(m.url()).map(j -> j.path("role").asText() + ", epoch "
                        + j.path("epoch").asText() + ", positions " + j.path("positions")).orElse("no answer"));
            }
            out.println("last record read " + v.lastArrival().map(a -> Instant.ofEpochMilli(a.arrivedMillis()) + " (committed "
                    + Instant.ofEpochMilli(a.committedMillis()) + ", epoch " + a.epoch() + ", " + a.agent() + ")").orElse("never"));
            keepLogs(c);
            out.println();
            out.println(ChaosReport.table(outcomes));
            out.println(ChaosReport.summary(options, c, v, verdict, outcomes, stuck, elapsedSeconds()));
        } finally {
            if (verifier != null) {
                verifier.close();
            }
        }
        boolean clean = verdict.clean() && verifier.violationCount() == 0 && stuck.isEmpty();
        out.println(clean ? "chaos: CLEAN" : "chaos: FAILED");
        return clean ? 0 : 1;
    }

    /**
     * Copies every agent's log, broker's and ZooKeeper server's log to {@code target/chaos/<mode>-<start>/}
     * under the working directory, as the servers' own directories go when the drill ends.
     */
    private void keepLogs(ChaosCluster c) {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of("target", "chaos",
                    options.mode() + "-" + Instant.now().toString().replace(':', '-').substring(0, 19)));
            for (Cluster.Member m : c.agents.members()) {
                java.nio.file.Files.copy(m.process().logFile(), dir.resolve(m.id() + ".log"));
            }
            for (KafkaCluster.Broker b : c.kafka.brokers()) {
                java.nio.file.Files.copy(b.log(), dir.resolve("broker-" + b.id() + ".log"));
            }
            say("logs kept in " + dir.toAbsolutePath());
        } catch (java.io.IOException e) {
            say("could not keep the logs: " + e);
        }
    }

    /** One fault: injects it, holds it, heals it, measures. */
    private Outcome inject(ChaosCluster c, ChaosVerifier v, Fault fault, int number, Random random) throws Exception {
        Cluster.Member leader = c.agents.awaitLeader(STUCK.toMillis());
        long epoch = AgentHttp.status(leader.url()).map(j -> j.path("epoch").asLong()).orElse(-1L);
        int from = v.size();
        long faultMillis = System.currentTimeMillis();
        Fault.Injected injected = fault.inject(c, leader, random);
        say("#" + number + " " + fault.kind() + ": " + injected.what() + " (" + leader.id() + " leads, epoch " + epoch + ")");
        Thread.sleep(fault.hold().toMillis());
        long healMillis = System.currentTimeMillis();
        try {
            injected.heal().heal();
        } catch (Exception e) {
            // e.g. a broker that does not come back: the wait for streaming, then for a whole cluster, tells
            say("#" + number + " the heal failed: " + e);
        }
        long healedMillis = System.currentTimeMillis();
        Optional<ChaosVerifier.Arrival> again = Optional.empty();
        long deadline = System.currentTimeMillis() + STUCK.toMillis();
        while (again.isEmpty() && System.currentTimeMillis() < deadline) {
            again = v.firstCommittedAfter(from, faultMillis);
            if (again.isEmpty()) {
                Thread.sleep(50);
            }
        }
        long until = Math.max(again.map(ChaosVerifier.Arrival::arrivedMillis).orElse(System.currentTimeMillis()), healedMillis) + 3_000;
        long wait = until - System.currentTimeMillis();
        if (wait > 0) {
            Thread.sleep(wait);   // the agents' log lines of the recovery itself
        }
        if (v.maxEpoch() > epoch) {
            // a new term: streaming again is its first record. A cut-off leader may still get rows committed
            // after the fault into Kafka before it notices (ZooKeeper suspends it ~1 s later): not the end of the gap
            again = v.firstOfEpochAbove(from, epoch);
        }
        List<AgentLog.Line> noticed = AgentLog.noticed(c.agents, faultMillis, until, 1, true);
        return new Outcome(number, fault.kind(), injected.what(), leader.id(), epoch, faultMillis, healMillis,
                again.map(a -> a.arrivedMillis() - faultMillis).orElse(-1L), again, noticed);
    }

    /** What one fault did: {@code streamingAgainMillis} from the fault to the first row committed after it read; -1 none. */
    record Outcome(int number, String kind, String what, String leader, long epoch, long faultMillis, long healMillis,
                   long streamingAgainMillis, Optional<ChaosVerifier.Arrival> first, List<AgentLog.Line> noticed) {

        /** Milliseconds from the heal to streaming again when streaming waited for the heal, else -1. */
        long afterHealMillis() {
            long since = first.map(a -> a.arrivedMillis() - healMillis).orElse(-1L);
            return healMillis - faultMillis >= 500 && since >= 0 ? since : -1;   // a hold of 0: nothing to heal
        }

        boolean tookOver() {
            return first.map(a -> a.epoch() > epoch).orElse(false);
        }

        String line() {
            StringBuilder s = new StringBuilder("#" + number + " ");
            if (streamingAgainMillis < 0) {
                s.append("STUCK: nothing committed after the fault was read");
            } else {
                s.append("streaming again ").append(streamingAgainMillis).append(" ms after the fault");
                if (afterHealMillis() >= 0) {
                    s.append(" (").append(afterHealMillis()).append(" ms after the heal)");
                }
                first.ifPresent(a -> s.append(!tookOver() ? "; " + a.agent() + " still leads"
                        : a.agent().equals(leader) ? "; " + a.agent() + " leads again, epoch " + a.epoch()
                        : "; " + a.agent() + " took over, epoch " + a.epoch()));
            }
            s.append("; noticed:");
            if (noticed.isEmpty()) {
                s.append(" no agent logged a warning");
            }
            for (AgentLog.Line l : noticed) {
                String m = l.message();
                s.append("\n      ").append(l.agent()).append(l.agent().equals(leader) ? " (leader)" : " (standby)")
                        .append(" +").append(l.millis() - faultMillis).append(" ms ").append(m.length() > 170 ? m.substring(0, 170) + "…" : m);
            }
            return s.toString();
        }
    }

    /** Waits until {@link #whole} says nothing is missing; false after {@link #STUCK}. */
    private boolean awaitWhole(ChaosCluster c, ChaosVerifier v) throws InterruptedException {
        return await(STUCK, () -> whole(c, v).isEmpty());
    }

    /**
     * What keeps the cluster from being whole, if anything: every broker up and every partition of the
     * load's topic, the checkpoints and the transaction log fully in sync; every ZooKeeper server up and
     * one leading; every agent alive and ready, one leading, its records read; the load writing.
     */
    private Optional<String> whole(ChaosCluster c, ChaosVerifier v) {
        if (!c.loadAlive()) {
            return Optional.of("the load stopped");
        }
        for (KafkaCluster.Broker b : c.kafka.brokers()) {
            if (!b.alive()) {
                return Optional.of(b + " down");
            }
        }
        try {
            for (String topic : List.of(ChaosCluster.TOPIC, "_pgrelay." + ChaosCluster.CLUSTER + ".checkpoints", "__transaction_state")) {
                Map<Integer, List<Integer>> isr = c.kafka.inSyncReplicas(topic);
                if (isr.values().stream().anyMatch(r -> r.size() < 3)) {
                    return Optional.of(topic + " not fully in sync: " + isr);
                }
            }
        } catch (Exception e) {
            return Optional.of("Kafka's metadata unavailable: " + e.getMessage());
        }
        if (c.zookeeper != null) {
            if (c.zookeeper.nodes().stream().anyMatch(n -> !n.alive() || n.mode().isEmpty()) || c.zookeeper.leader().isEmpty()) {
                return Optional.of("ZooKeeper ensemble not whole");
            }
        }
        for (Cluster.Member m : c.agents.members()) {
            if (!Cluster.ready(m)) {
                return Optional.of(m.id() + " not ready");
            }
        }
        Optional<Cluster.Member> leader = c.agents.leader();
        if (leader.isEmpty()) {
            return Optional.of("not exactly one agent leads");
        }
        long epoch = AgentHttp.status(leader.get().url()).map(j -> j.path("epoch").asLong()).orElse(Long.MAX_VALUE);
        if (v.maxEpoch() < epoch) {
            return Optional.of("no record of " + leader.get().id() + "'s epoch " + epoch + " read yet");
        }
        return Optional.empty();
    }

    private static boolean await(Duration timeout, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (done.getAsBoolean()) {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    private long elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1_000_000_000;
    }

    private void say(String line) {
        out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line);
        out.flush();
    }
}
