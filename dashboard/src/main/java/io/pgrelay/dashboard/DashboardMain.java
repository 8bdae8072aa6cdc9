package io.pgrelay.dashboard;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code java -jar pgrelay-dashboard.jar --agents URL[,URL…] | --config FILE [--http HOST:PORT] [--read-only]}. */
@Command(name = "pgrelay-dashboard", mixinStandardHelpOptions = true,
        description = "Serves a web page showing a pgrelay cluster: roles, slot, lag, throughput, alerts, leadership; hands leadership over.")
public final class DashboardMain implements Callable<Integer> {

    static final class Agents {
        @Option(names = "--agents", split = ",", paramLabel = "URL",
                description = "the agents' HTTP base URLs, e.g. http://10.0.0.5:8081,http://10.0.0.6:8081")
        String[] urls;

        @Option(names = "--config", paramLabel = "FILE",
                description = "an agent's YAML config: the cluster's members are read from its registry (PostgreSQL or ZooKeeper)")
        Path config;
    }

    @ArgGroup(multiplicity = "1")
    Agents agents;

    @Option(names = "--http", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8090",
            description = "where the dashboard listens (default ${DEFAULT-VALUE}; loopback unless told otherwise)")
    String listen;

    @Option(names = "--read-only", description = "show the cluster but refuse handover (403)")
    boolean readOnly;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DashboardMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            System.err.println("--http: '" + listen + "' is not HOST:PORT, e.g. 127.0.0.1:8090");
            return 2;
        }
        String host = colon <= 0 ? "127.0.0.1" : listen.substring(0, colon);
        AgentSource source;
        String cluster = null;
        if (agents.config != null) {
            if (!Files.isReadable(agents.config)) {
                System.err.println("--config: cannot read " + agents.config);
                return 2;
            }
            RegistrySettings settings;
            try {
                settings = RegistrySettings.read(agents.config, System::getenv);
            } catch (IllegalArgumentException e) {
                System.err.println(e.getMessage());
                return 2;
            }
            source = AgentSource.of(settings);
            cluster = settings.cluster();
            System.out.println("cluster " + cluster + ": members from " + settings.registryDescription());
        } else {
            source = AgentSource.of(Arrays.asList(agents.urls));
        }
        ClusterWatch watch = new ClusterWatch(source, cluster);
        DashboardServer server;
        try {
            server = DashboardServer.start(host, port, watch, readOnly);
        } catch (RuntimeException e) {
            System.err.println("--http: cannot listen on " + listen + ": " + e.getMessage());
            return 1;
        }
        watch.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            watch.close();
            stopped.countDown();
        }, "dashboard-shutdown"));
        stopped.await();
        return 0;
    }
}
