package io.pgrelay.agent.leader;

import io.javalin.Javalin;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.event.BuiltinTypes;
import io.pgrelay.agent.event.RowEncoders;
import io.pgrelay.agent.pipeline.HotPathRehearsal;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code pgrelay-agent train}: what an agent does, without any server, for a JVM that records it — a
 * JDK 25 AOT cache ({@code -XX:AOTCacheOutput}) or a CDS archive ({@code -XX:ArchiveClassesAtExit})
 * written at the container image's build or before a VM's first start. It loads the classes an agent
 * starts with (Kafka, PostgreSQL, HTTP and ZooKeeper clients, built against addresses where nothing
 * listens and closed at once) and runs the per-event path through {@link HotPathRehearsal} in each
 * format, so an AOT cache also holds that path's method profiles.
 */
public final class Training {

    /** Nothing listens here: a client built against it fails fast or is closed before it tries. */
    private static final String NOWHERE = "127.0.0.1:9";

    private Training() {
    }

    /**
     * The per-event path of {@code config}'s format over a synthetic stream: the built-in type catalogue
     * (no PostgreSQL) and, for avro, made-up schema ids (no registry: nothing is registered).
     */
    static HotPathRehearsal rehearsal(PgRelayConfig config) {
        return new HotPathRehearsal(LeaderSettings.pipeline(config),
                RowEncoders.of(config, BuiltinTypes.CATALOG, (subject, schema, context) -> 1));
    }

    /** Runs the training; returns one line per step for the command's output. */
    public static List<String> run(List<PgRelayConfig> formats, int transactions) {
        List<String> lines = new java.util.ArrayList<>();
        for (PgRelayConfig config : formats) {
            HotPathRehearsal.Result r = rehearsal(config).run(transactions, () -> true);
            lines.add(String.format("train: %,d events as %s / %s in %d ms", r.events(), config.kafka().formats().format(),
                    config.kafka().formats().serialization(), r.took().toMillis()));
        }
        lines.add("train: " + kafkaClients() + "; " + postgresDriver() + "; " + http() + "; " + zookeeper());
        return lines;
    }

    private static String kafkaClients() {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", NOWHERE);
        props.put("transactional.id", "pgrelay-train");
        props.put("enable.idempotence", "true");
        props.put("acks", "all");
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer()).close(Duration.ZERO);
        Map<String, Object> consumer = new HashMap<>();
        consumer.put("bootstrap.servers", NOWHERE);
        consumer.put("isolation.level", "read_committed");
        new KafkaConsumer<>(consumer, new ByteArrayDeserializer(), new ByteArrayDeserializer()).close(Duration.ZERO);
        Admin.create(Map.of("bootstrap.servers", NOWHERE)).close(Duration.ZERO);
        return "Kafka producer, consumer and admin client built and closed";
    }

    private static String postgresDriver() {
        Properties props = new Properties();
        props.setProperty("user", "pgrelay");
        props.setProperty("connectTimeout", "1");
        try (var c = DriverManager.getConnection("jdbc:postgresql://" + NOWHERE + "/pgrelay", props)) {
            return "PostgreSQL answered at " + NOWHERE + " (unexpected)";
        } catch (SQLException expected) {
            return "PostgreSQL driver loaded";
        }
    }

    private static String http() {
        Javalin app = Javalin.create().get("/health", ctx -> ctx.result("ok")).start("127.0.0.1", 0);
        app.stop();
        return "HTTP server started and stopped";
    }

    private static String zookeeper() {
        CuratorFrameworkFactory.builder().connectString(NOWHERE).retryPolicy(new RetryOneTime(1)).build().close();
        return "ZooKeeper client built";
    }
}
