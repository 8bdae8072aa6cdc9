package io.pgrelay.sandbox;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A real ZooKeeper server on 127.0.0.1 (Curator's TestingServer). */
public final class ZooKeeper implements AutoCloseable {

    private final TestingServer server;
    private final Path dataDir;

    private ZooKeeper(TestingServer server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    public static ZooKeeper start() throws Exception {
        Path dataDir = Files.createTempDirectory("pgrelay-zk-");
        int port = Kafka.freePort();
        InstanceSpec spec = new InstanceSpec(dataDir.toFile(), port, -1, -1, true, 1, -1, -1,
                Map.of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false"), "127.0.0.1");
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
