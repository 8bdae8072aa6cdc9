package io.pgrelay.sandbox.server;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A real ZooKeeper server on 127.0.0.1 (Curator's TestingServer). */
public final class ZooKeeper implements AutoCloseable {

    /** The server's tickTime. */
    public static final int TICK_MILLIS = 200;

    private final TestingServer server;
    private final Path dataDir;

    private ZooKeeper(TestingServer server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    public static ZooKeeper start() throws Exception {
        // Unset, ZooKeeper warns at start that maxCnxns is not configured (0: no limit); a healthy demo prints no WARN.
        if (System.getProperty("zookeeper.maxCnxns") == null) {
            System.setProperty("zookeeper.maxCnxns", "10000");
        }
        Path dataDir = Files.createTempDirectory("pgrelay-zk-");
        int port = Kafka.freePort();
        // ZooKeeper expires sessions on its ticks, so a dead client's session lasts up to one tick past
        // its timeout; Curator's test default tick is 1 s. 200 ms is what an operator who wants fast
        // failover would set (and keeps 2 s sessions legal: the minimum is 2 ticks).
        InstanceSpec spec = new InstanceSpec(dataDir.toFile(), port, -1, -1, true, 1, TICK_MILLIS, -1,
                Map.of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false", "maxSessionTimeout", "60000"), "127.0.0.1");
        return new ZooKeeper(new TestingServer(spec, true), dataDir);
    }

    public String connectString() {
        return server.getConnectString();
    }

    /** Stops the server, keeping its data, as a crash would. */
    public void stop() throws IOException {
        server.stop();
    }

    /** Starts the stopped server again on the same port with the same data. */
    public void restart() throws Exception {
        server.restart();
    }

    @Override
    public void close() throws IOException {
        server.close();
        Directories.deleteRecursively(dataDir);
    }
}
