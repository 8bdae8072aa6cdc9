package io.pgrelay.dashboard;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import io.pgrelay.common.tls.TlsContexts;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar pgrelay-dashboard.jar --agents URL[,URL…] | --config FILE [--http HOST:PORT] [--read-only]
 * [--tls-cert FILE --tls-key FILE] [--agent-ca FILE] [--agent-token-file FILE]}.
 */
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

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate (chain, leaf first): serve HTTPS; with --tls-key")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert (unencrypted PKCS#8 or PKCS#1 RSA)")
    Path tlsKey;

    @Option(names = "--agent-ca", paramLabel = "FILE",
            description = "PEM CA that signed the agents' HTTPS certificates (agent.tls); registry members are then reached over https")
    Path agentCa;

    @Option(names = "--agent-token-file", paramLabel = "FILE",
            description = "a file holding a read token (agent.tokens.read), sent with every poll of an agent (agent.protectReads)")
    Path agentTokenFile;

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
        if ((tlsCert == null) != (tlsKey == null)) {
            System.err.println(tlsCert == null ? "--tls-cert: required with --tls-key" : "--tls-key: required with --tls-cert");
            return 2;
        }
        SSLContext tls;
        AgentClient agentClient;
        try {
            tls = tlsCert == null ? null : TlsContexts.server(tlsCert, tlsKey);
            if (tlsCert != null) {
                TlsContexts.checkPair(tlsCert, tlsKey);
            }
            String token = null;
            if (agentTokenFile != null) {
                token = Files.readString(agentTokenFile).strip();
                if (token.isEmpty() || token.contains("\n")) {
                    System.err.println("--agent-token-file: " + agentTokenFile + " must hold one token on one line");
                    return 2;
                }
            }
            agentClient = AgentClient.of(agentCa, token, Duration.ofSeconds(2));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            System.err.println("--agent-token-file: cannot read " + agentTokenFile + " (" + e.getClass().getSimpleName() + ")");
            return 2;
        }
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
            source = AgentSource.of(settings, agentClient.scheme());
            cluster = settings.cluster();
            System.out.println("cluster " + cluster + ": members from " + settings.registryDescription());
        } else {
            source = AgentSource.of(Arrays.asList(agents.urls));
        }
        ClusterWatch watch = new ClusterWatch(source, cluster, agentClient);
        DashboardServer server;
        try {
            server = DashboardServer.start(host, port, watch, readOnly, agentClient.http(), tls);
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
