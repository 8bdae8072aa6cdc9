package io.pgrelay.sandbox.server;

import io.pgrelay.common.tls.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A Kafka broker (KRaft, in this JVM, beside the shared {@link Kafka}) that takes clients only over
 * {@code SASL_SSL} with SCRAM-SHA-512, its certificate from a {@link TestCa} made for it, and
 * {@code StandardAuthorizer} with {@code allow.everyone.if.no.acl.found=false}: a user may do only
 * what an ACL grants. A second listener takes {@code SSL} with a required client certificate whose
 * CN names the principal ({@link #sslBootstrapServers()}). Two SCRAM users exist from the format on (no window without them): the super
 * user {@link #ADMIN_USER} and {@link #AGENT_USER}, who has no ACL until a test grants one.
 *
 * <p>The JAAS settings are listener-scoped broker properties, not a JVM-wide JAAS file, so this
 * broker and the shared one do not disturb each other. Brokers talk to each other over the same
 * SASL_SSL listener as {@link #ADMIN_USER}. A sandbox shortcut: the controller listener (loopback
 * only, never given to clients) is PLAINTEXT, so its anonymous principal is a super user too; a
 * production setup would use SSL with client certificates there.
 */
public final class SecureKafka implements AutoCloseable {

    public static final String ADMIN_USER = "kafka-admin";
    public static final String ADMIN_PASSWORD = "admin-" + Uuid.randomUuid();
    public static final String AGENT_USER = "pgrelay-agent";
    public static final String AGENT_PASSWORD = "agent-" + Uuid.randomUuid();
    public static final String MECHANISM = "SCRAM-SHA-512";

    private final KafkaRaftServer server;
    private final Path logDir;
    private final TestCa ca;
    private final int port;
    private final int sslPort;

    private SecureKafka(KafkaRaftServer server, Path logDir, TestCa ca, int port, int sslPort) {
        this.server = server;
        this.logDir = logDir;
        this.ca = ca;
        this.port = port;
        this.sslPort = sslPort;
    }

    public static SecureKafka start() throws Exception {
        TestCa ca = TestCa.create("pgrelay-test-kafka-ca");
        Path logDir = Files.createTempDirectory("pgrelay-secure-kafka-");
        try {
            TestCa.Issued cert = ca.server("kafka", "localhost", "127.0.0.1", "localhost");
            int port = Kafka.freePort();
            int controllerPort = Kafka.freePort();
            int sslPort = Kafka.freePort();
            Properties props = Kafka.singleNodeConfig(controllerPort, logDir);
            props.put("listeners", "SASL_SSL://127.0.0.1:" + port + ",SSL://127.0.0.1:" + sslPort
                    + ",CONTROLLER://127.0.0.1:" + controllerPort);
            props.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + port + ",SSL://127.0.0.1:" + sslPort);
            props.put("controller.listener.names", "CONTROLLER");
            props.put("inter.broker.listener.name", "SASL_SSL");
            props.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT");
            // the SSL listener: a client certificate is required, and its CN is the principal's name
            props.put("listener.name.ssl.ssl.client.auth", "required");
            props.put("ssl.principal.mapping.rules", "RULE:^CN=([^,]+)$/$1/,DEFAULT");
            props.put("sasl.enabled.mechanisms", MECHANISM);
            props.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
            props.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", jaas(ADMIN_USER, ADMIN_PASSWORD));
            props.put("ssl.keystore.type", "PEM");
            props.put("ssl.keystore.certificate.chain", Files.readString(cert.cert()));
            props.put("ssl.keystore.key", Files.readString(cert.key()));
            props.put("ssl.truststore.type", "PEM");
            props.put("ssl.truststore.location", ca.certificate().toString());
            props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            props.put("allow.everyone.if.no.acl.found", "false");
            props.put("super.users", "User:" + ADMIN_USER + ";User:ANONYMOUS");
            props.put("offsets.topic.num.partitions", "1");
            props.put("transaction.state.log.num.partitions", "1");
            props.put("add.partitions.to.txn.retry.backoff.ms", "5");
            props.put("add.partitions.to.txn.retry.backoff.max.ms", "2000");
            KafkaConfig config = new KafkaConfig(props);
            Kafka.format(logDir, List.of(
                    MECHANISM + "=[name=" + ADMIN_USER + ",password=" + ADMIN_PASSWORD + "]",
                    MECHANISM + "=[name=" + AGENT_USER + ",password=" + AGENT_PASSWORD + "]"));
            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            server.startup();
            SecureKafka kafka = new SecureKafka(server, logDir, ca, port, sslPort);
            try (Admin admin = kafka.admin()) {
                admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                kafka.close();
                throw e;
            }
            return kafka;
        } catch (Exception e) {
            Directories.deleteRecursively(logDir);
            ca.close();
            throw e;
        }
    }

    static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                + password + "\";";
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /**
     * The listener that takes {@code SSL} with a client certificate only (no SASL): the certificate's
     * CN is the principal, so a certificate for {@link #AGENT_USER} has that user's ACLs.
     */
    public String sslBootstrapServers() {
        return "127.0.0.1:" + sslPort;
    }

    /** A client certificate for {@code user} from {@link #ca()}, for {@link #sslBootstrapServers()}. */
    public TestCa.Issued clientCertificate(String user) throws java.io.IOException {
        return ca.client("kafka-client-" + user, user);
    }

    /** The CA that signed the broker's certificate (PEM). */
    public TestCa ca() {
        return ca;
    }

    /** Client settings of the super user {@link #ADMIN_USER}, for a test's own admin clients and consumers. */
    public Map<String, Object> superUserClientConfig() {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrapServers());
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", jaas(ADMIN_USER, ADMIN_PASSWORD));
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", ca.certificate().toString());
        return p;
    }

    /** An admin client of the super user. */
    public Admin admin() {
        return Admin.create(superUserClientConfig());
    }

    @Override
    public void close() {
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            Directories.deleteRecursively(logDir);
            ca.close();
        }
    }
}
