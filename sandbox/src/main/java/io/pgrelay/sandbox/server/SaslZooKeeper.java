package io.pgrelay.sandbox.server;

import io.pgrelay.common.tls.TestCa;
import io.pgrelay.common.tls.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * A ZooKeeper server (its own process, standalone) that requires SASL authentication of every
 * client ({@code enforce.auth.enabled}, scheme {@code sasl}) with DIGEST-MD5 users from its JAAS
 * {@code Server} section: {@link #USER}, whom agents log in as, and {@link #OTHER_USER}, another
 * authenticated client that owns nothing of pgrelay's. Binds to 127.0.0.1.
 *
 * <p>{@link #startTlsOnly()}: the same server with a TLS client port ({@code secureClientPort},
 * Netty) and no plaintext one at all. Its certificate, for {@code localhost} and {@code 127.0.0.1},
 * comes from a {@link TestCa} made at start ({@link #ca()}); it asks no client certificate.
 */
public final class SaslZooKeeper implements AutoCloseable {

    public static final String USER = "pgrelay";
    public static final String PASSWORD = "zk-" + UUID.randomUUID();
    public static final String OTHER_USER = "someone-else";
    public static final String OTHER_PASSWORD = "zk-other-" + UUID.randomUUID();

    private final Path dir;
    private final int port;
    private final Process process;
    /** null: plaintext client port */
    private final TestCa ca;

    private SaslZooKeeper(Path dir, int port, Process process, TestCa ca) {
        this.dir = dir;
        this.port = port;
        this.process = process;
        this.ca = ca;
    }

    /** SASL on a plaintext client port. */
    public static SaslZooKeeper start() throws Exception {
        return start(false);
    }

    /** SASL on a TLS client port, and no plaintext port. */
    public static SaslZooKeeper startTlsOnly() throws Exception {
        return start(true, "localhost", "127.0.0.1");
    }

    /** {@link #startTlsOnly()} with a certificate for {@code names} alone (to show that the host name is checked). */
    public static SaslZooKeeper startTlsOnly(String... names) throws Exception {
        return start(true, names);
    }

    private static SaslZooKeeper start(boolean tls, String... names) throws Exception {
        Path dir = Files.createTempDirectory("pgrelay-zk-sasl-");
        Process process = null;
        TestCa ca = null;
        try {
            int port = Ports.free();
            String listener;
            if (tls) {
                ca = TestCa.create("pgrelay-zookeeper-ca");
                TestCa.Issued server = ca.server("zookeeper", names[0], names);
                // ZooKeeper's PEM key store: the key and the certificate in one file
                Path keyStore = dir.resolve("zookeeper-keystore.pem");
                Files.writeString(keyStore, Files.readString(server.key()) + Files.readString(server.cert()));
                listener = "secureClientPort=" + port + "\nsecureClientPortAddress=127.0.0.1\n"
                        + "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
                        + "ssl.keyStore.location=" + keyStore + "\nssl.keyStore.type=PEM\n"
                        + "ssl.trustStore.location=" + ca.certificate() + "\nssl.trustStore.type=PEM\n"
                        + "ssl.clientAuth=none\n";
            } else {
                listener = "clientPort=" + port + "\nclientPortAddress=127.0.0.1\n";
            }
            Path cfg = dir.resolve("zoo.cfg");
            Files.writeString(cfg, "tickTime=500\ndataDir=" + dir.resolve("data") + "\n" + listener
                    + "maxSessionTimeout=60000\nadmin.enableServer=false\n"
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
            while (!(tls ? ruokOverTls(port, ca) : ZooKeeperEnsemble.fourLetters(port, "ruok")).startsWith("imok")) {
                if (System.currentTimeMillis() > deadline || !process.isAlive()) {
                    throw new IOException("ZooKeeper with SASL" + (tls ? " over TLS" : "") + " did not start; see "
                            + dir.resolve("zookeeper.log") + ":\n" + Files.readString(dir.resolve("zookeeper.log")));
                }
                Thread.sleep(100);
            }
            return new SaslZooKeeper(dir, port, process, ca);
        } catch (Exception e) {
            if (process != null) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            if (ca != null) {
                ca.close();
            }
            Directories.deleteRecursively(dir);
            throw e;
        }
    }

    /** {@code ruok} through a verified TLS connection: the server is up and presents its certificate. */
    private static String ruokOverTls(int port, TestCa ca) {
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress("127.0.0.1", port), 500);
            raw.setSoTimeout(2000);
            try (SSLSocket s = (SSLSocket) TlsContexts.client(ca.certificate(), true, null, null).getSocketFactory()
                    .createSocket(raw, "127.0.0.1", port, false)) {
                s.startHandshake();
                s.getOutputStream().write("ruok".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                InputStream in = s.getInputStream();
                return new String(in.readNBytes(4), StandardCharsets.US_ASCII);
            }
        } catch (IOException e) {
            return "";
        }
    }

    /** {@code 127.0.0.1:<port>}: the plaintext port, or with {@link #startTlsOnly()} the TLS one. */
    public String connectString() {
        return "127.0.0.1:" + port;
    }

    /** The PEM CA that signed the server's certificate; only with {@link #startTlsOnly()}. */
    public Path ca() {
        if (ca == null) {
            throw new IllegalStateException("this ZooKeeper has no TLS port");
        }
        return ca.certificate();
    }

    /** The server's log (no secrets: the JAAS file is not logged). */
    public String log() throws IOException {
        return Files.readString(dir.resolve("zookeeper.log"));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        if (ca != null) {
            ca.close();
        }
        Directories.deleteRecursively(dir);
    }
}
