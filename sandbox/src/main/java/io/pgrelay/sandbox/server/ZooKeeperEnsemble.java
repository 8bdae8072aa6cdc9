package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A ZooKeeper ensemble of real servers, each its own process ({@code QuorumPeerMain}, from the
 * ZooKeeper jar on this JVM's class path), so that a node can be SIGKILLed. Binds to 127.0.0.1;
 * {@link #close()} kills every node and deletes the data.
 */
public final class ZooKeeperEnsemble implements AutoCloseable {

    private final Path root;
    private final List<Node> nodes = new ArrayList<>();

    /** One server of the ensemble; {@code id} is its {@code myid}, from 1. */
    public final class Node {
        final int id;
        final int clientPort;
        final Path config;
        final Path log;
        private Process process;

        private Node(int id, int clientPort, Path config, Path log) {
            this.id = id;
            this.clientPort = clientPort;
            this.config = config;
            this.log = log;
        }

        public int id() {
            return id;
        }

        public int clientPort() {
            return clientPort;
        }

        public synchronized void start() throws IOException {
            if (process != null && process.isAlive()) {
                return;
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder(java, "-Xmx128m", "-Dzookeeper.admin.enableServer=false",
                    "-Dzookeeper.4lw.commands.whitelist=srvr,ruok", "-cp", System.getProperty("java.class.path"),
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        }

        /** SIGKILL, as a crash. */
        public synchronized void kill() throws InterruptedException {
            if (process != null) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }

        public synchronized boolean alive() {
            return process != null && process.isAlive();
        }

        /** {@code leader}, {@code follower}, or empty when the node does not serve (down, or no quorum). */
        public Optional<String> mode() {
            String srvr = fourLetters(clientPort, "srvr");
            return srvr.lines().filter(l -> l.startsWith("Mode: ")).map(l -> l.substring(6).trim()).findFirst();
        }

        @Override
        public String toString() {
            return "zookeeper-" + id + " (127.0.0.1:" + clientPort + ")";
        }
    }

    private ZooKeeperEnsemble(Path root) {
        this.root = root;
    }

    /** Starts {@code size} servers with the given {@code tickTime} and waits until they have a leader. */
    public static ZooKeeperEnsemble start(int size, int tickMillis) throws Exception {
        ZooKeeperEnsemble e = new ZooKeeperEnsemble(Files.createTempDirectory("pgrelay-zk-ensemble-"));
        try {
            int[][] ports = new int[size][3];
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < 3; j++) {
                    ports[i][j] = Ports.free();
                }
            }
            String servers = java.util.stream.IntStream.range(0, size)
                    .mapToObj(i -> "server." + (i + 1) + "=127.0.0.1:" + ports[i][1] + ":" + ports[i][2])
                    .collect(Collectors.joining("\n"));
            for (int i = 0; i < size; i++) {
                Path dir = Files.createDirectories(e.root.resolve("zk" + (i + 1)));
                Files.writeString(dir.resolve("myid"), String.valueOf(i + 1));
                Path cfg = dir.resolve("zoo.cfg");
                Files.writeString(cfg, "tickTime=" + tickMillis + "\ninitLimit=20\nsyncLimit=5\n"
                        + "dataDir=" + dir + "\nclientPort=" + ports[i][0] + "\nclientPortAddress=127.0.0.1\n"
                        + "maxSessionTimeout=60000\nmaxClientCnxns=0\nadmin.enableServer=false\n"
                        + "4lw.commands.whitelist=srvr,ruok\n" + servers + "\n");
                e.nodes.add(e.new Node(i + 1, ports[i][0], cfg, dir.resolve("zookeeper.log")));
            }
            for (Node n : e.nodes) {
                n.start();
            }
            e.awaitLeader(60_000);
            return e;
        } catch (Exception | Error failure) {
            e.close();
            throw failure;
        }
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    public String connectString() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.clientPort).collect(Collectors.joining(","));
    }

    /** The node that leads the ensemble now, if any. */
    public Optional<Node> leader() {
        return nodes.stream().filter(n -> n.mode().filter("leader"::equals).isPresent()).findFirst();
    }

    /** Waits until some node leads and every live node serves. */
    public Node awaitLeader(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            Optional<Node> leader = leader();
            if (leader.isPresent() && nodes.stream().filter(Node::alive).allMatch(n -> n.mode().isPresent())) {
                return leader.get();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the ZooKeeper ensemble " + connectString() + " has no leader after "
                + timeoutMillis + " ms; logs under " + root);
    }

    /** A ZooKeeper four-letter command's answer, or "" when the node does not answer. */
    static String fourLetters(int port, String command) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write(command.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Node n : nodes) {
            n.kill();
        }
        Directories.deleteRecursively(root);
    }
}
