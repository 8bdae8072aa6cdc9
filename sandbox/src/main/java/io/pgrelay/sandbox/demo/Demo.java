package io.pgrelay.sandbox.demo;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.cluster.DashboardProcess;
import io.pgrelay.sandbox.server.PostgresBinaries;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo: real PostgreSQL, Kafka and ZooKeeper, N agents as child processes, and a steady load
 * on {@code public.orders}. Prints where to look; Ctrl-C stops every process and removes its data.
 */
public final class Demo {

    private Demo() {
    }

    record Options(int agents, String mode, int rate, int pg) {
        static Options parse(String[] args) {
            int agents = 3;
            String mode = "slot";
            int rate = 200;
            int pg = PostgresBinaries.DEFAULT_MAJOR;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--agents" -> agents = Integer.parseInt(value(args, ++i, "--agents"));
                    case "--mode" -> mode = value(args, ++i, "--mode");
                    case "--rate" -> rate = Integer.parseInt(value(args, ++i, "--rate"));
                    case "--pg" -> pg = Integer.parseInt(value(args, ++i, "--pg"));
                    case "-h", "--help" -> {
                        System.out.println("usage: demo [--agents N] [--mode slot|zookeeper] [--rate ROWS_PER_S] [--pg 15|16|17|18]");
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "; see --help");
                }
            }
            if (!mode.equals("slot") && !mode.equals("zookeeper")) {
                throw new IllegalArgumentException("--mode must be slot or zookeeper, not " + mode);
            }
            if (agents < 1 || agents > 9) {
                throw new IllegalArgumentException("--agents must be 1 to 9");
            }
            if (pg < 15 || pg > 18) {
                throw new IllegalArgumentException("--pg must be 15, 16, 17 or 18");
            }
            return new Options(agents, mode, rate, pg);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("demo: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("starting PostgreSQL " + options.pg() + ", Kafka and ZooKeeper…");
        Sandbox sandbox = Sandbox.start(options.pg());
        List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();
        AtomicBoolean stopLoad = new AtomicBoolean();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nstopping…");
            stopLoad.set(true);
            for (int i = toClose.size() - 1; i >= 0; i--) {
                try {
                    toClose.get(i).close();
                } catch (Exception e) {
                    System.err.println("could not stop cleanly: " + e);
                }
            }
            try {
                sandbox.close();
            } catch (Exception e) {
                System.err.println("sandbox did not stop cleanly: " + e);
            }
            stopped.countDown();
        }, "demo-stop"));

        LoadGenerator load = new LoadGenerator(sandbox.postgres().connections(), "public.orders");
        load.createTable();
        AgentConfigs configs = new AgentConfigs(sandbox, "demo").mode(options.mode()).tables("public.orders")
                .adminToken("demo-token");
        System.out.println("starting " + options.agents() + " agent(s) in " + options.mode() + " mode…");
        Cluster cluster = Cluster.start(configs, options.agents());
        toClose.add(cluster);
        String topic = "demo.public.orders";
        Path stateFile = DemoState.defaultPath();
        Runnable publishState = () -> writeState(stateFile, sandbox, cluster, topic);
        toClose.add(() -> DemoState.remove(stateFile));
        publishState.run();
        // A killed agent comes back after a few seconds, as under Kubernetes or systemd, so the
        // cluster heals and a failover drill can kill the leader again and again.
        cluster.restartDeadMembers(Duration.ofSeconds(3), m -> {
            System.out.println(m.id() + " restarted as pid " + m.process().pid());
            publishState.run();
        });
        Cluster.Member leader = cluster.awaitLeader(60_000);
        String urls = String.join(",", cluster.members().stream().map(Cluster.Member::url).toList());
        DashboardProcess dashboard = DashboardProcess.start("--agents", urls);
        toClose.add(dashboard);
        Thread loader = new Thread(() -> load.write(Long.MAX_VALUE, 10, 2, options.rate(), stopLoad), "demo-load");
        loader.setDaemon(true);
        loader.start();

        System.out.println();
        System.out.println("pgrelay demo is running");
        System.out.println("  postgres   " + sandbox.postgres().jdbcUrl() + "  (user postgres, no password)");
        System.out.println("  kafka      " + sandbox.kafka().bootstrapServers() + "  topic " + topic);
        for (Cluster.Member m : cluster.members()) {
            System.out.println("  " + m.id() + "    " + m.url() + "/status   pid " + m.process().pid()
                    + (m == leader ? "   (leader)" : ""));
        }
        System.out.println("  dashboard  " + dashboard.url() + "   (admin token for handover: demo-token)");
        System.out.println("  load       ~" + options.rate() + " rows/s into public.orders");
        System.out.println();
        System.out.println("watch the topic:   java -cp sandbox/target/pgrelay-sandbox.jar io.pgrelay.sandbox.demo.Watch "
                + sandbox.kafka().bootstrapServers() + " " + topic);
        System.out.println("kill the leader:   kill -9 " + leader.process().pid() + "   (a killed agent is restarted after 3 s)");
        System.out.println("failover drill:    ./scripts/failover-drill --kills 3   (reads " + stateFile + ")");
        System.out.println("Ctrl-C stops everything and removes its data.");
        stopped.await();
    }

    private static void writeState(Path file, Sandbox sandbox, Cluster cluster, String topic) {
        List<DemoState.Agent> agents = cluster.members().stream()
                .map(m -> new DemoState.Agent(m.id(), m.url(), m.process().pid())).toList();
        try {
            new DemoState(ProcessHandle.current().pid(), "demo", sandbox.postgres().jdbcUrl(), sandbox.postgres().superuser(),
                    sandbox.kafka().bootstrapServers(), topic, "public.orders", agents).write(file);
        } catch (IOException e) {
            System.err.println("could not write " + file + ": " + e.getMessage());
        }
    }
}
