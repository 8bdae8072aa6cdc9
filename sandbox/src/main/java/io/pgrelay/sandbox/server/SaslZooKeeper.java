package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A ZooKeeper server (its own process, standalone) that requires SASL authentication of every
 * client ({@code enforce.auth.enabled}, scheme {@code sasl}) with DIGEST-MD5 users from its JAAS
 * {@code Server} section: {@link #USER}, whom agents log in as, and {@link #OTHER_USER}, another
 * authenticated client that owns nothing of pgrelay's. Binds to 127.0.0.1.
 */
public final class SaslZooKeeper implements AutoCloseable {

    public static final String USER = "pgrelay";
    public static final String PASSWORD = "zk-" + UUID.randomUUID();
    public static final String OTHER_USER = "someone-else";
    public static final String OTHER_PASSWORD = "zk-other-" + UUID.randomUUID();

    private final Path dir;
    private final int port;
    private final Process process;

    private SaslZooKeeper(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    public static SaslZooKeeper start() throws Exception {
        Path dir = Files.createTempDirectory("pgrelay-zk-sasl-");
        Process process = null;
        try {
            int port = Ports.free();
            Path cfg = dir.resolve("zoo.cfg");
            Files.writeString(cfg, "tickTime=500\ndataDir=" + dir.resolve("data") + "\nclientPort=" + port
                    + "\nclientPortAddress=127.0.0.1\nmaxSessionTimeout=60000\nadmin.enableServer=false\n"
                    + "4lw.commands.whitelist=srvr,ruok\n"
                    + "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
                    + "enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n");
            Path jaas = dir.resolve("jaas.conf");
            Files.writeString(jaas, "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
                    + "  user_" + USER + "=\"" + PASSWORD + "\"\n  user_" + OTHER_USER + "=\"" + OTHER_PASSWORD + "\";\n};\n");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder(java, "-Xmx128m", "-Dzookeeper.admin.enableServer=false",
                    "-Djava.security.auth.login.config=" + jaas, "-cp", System.getProperty("java.class.path"),
                    "org.apache.zookeeper.server.ZooKeeperServerMain", cfg.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("zookeeper.log").toFile()))
                    .start();
            long deadline = System.currentTimeMillis() + 30_000;
            while (!ZooKeeperEnsemble.fourLetters(port, "ruok").startsWith("imok")) {
                if (System.currentTimeMillis() > deadline || !process.isAlive()) {
                    throw new IOException("ZooKeeper with SASL did not start; see " + dir.resolve("zookeeper.log") + ":\n"
                            + Files.readString(dir.resolve("zookeeper.log")));
                }
                Thread.sleep(100);
            }
            return new SaslZooKeeper(dir, port, process);
        } catch (Exception e) {
            if (process != null) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Directories.deleteRecursively(dir);
            throw e;
        }
    }

    public String connectString() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Directories.deleteRecursively(dir);
    }
}
