package io.pgrelay.agent.kafka;

import io.pgrelay.agent.config.KafkaConfig;
import io.pgrelay.agent.core.Finding;
import java.time.Duration;
import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

/** Answers "can this agent reach Kafka with its settings?" for {@code check}: one {@link Finding}. */
public final class KafkaProbe {

    private KafkaProbe() {
    }

    public static Finding reach(KafkaConfig kafka, String clientId, Duration timeout) {
        Properties p = new Properties();
        // the producer settings that also concern an admin client (security, SASL, SSL, DNS); the rest would only be warned about
        kafka.producer().forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) {
                p.put(k, v);
            }
        });
        // one connection attempt a second, not ten: an unreachable broker is reported once, in the finding
        p.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "1000");
        p.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        int ms = (int) timeout.toMillis();
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        Admin admin = null;
        try {
            admin = Admin.create(p);
            DescribeClusterResult cluster = admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms));
            Collection<Node> nodes = cluster.nodes().get(ms + 1000L, TimeUnit.MILLISECONDS);
            String id = cluster.clusterId().get(ms + 1000L, TimeUnit.MILLISECONDS);
            return Finding.ok("kafka: reached cluster " + id + " (" + nodes.size() + (nodes.size() == 1 ? " broker" : " brokers")
                    + ") at " + kafka.bootstrapServers());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                return unanswered(kafka, timeout);
            }
            return Finding.fail("kafka: cannot use " + kafka.bootstrapServers() + ": " + cause.getClass().getSimpleName() + ": "
                    + cause.getMessage());
        } catch (TimeoutException e) {
            return unanswered(kafka, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Finding.fail("kafka: interrupted while reaching " + kafka.bootstrapServers());
        } catch (RuntimeException e) { // bad client settings, unresolvable bootstrap host
            return Finding.fail("kafka: cannot use " + kafka.bootstrapServers() + ": " + e.getMessage()
                    + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
        } finally {
            if (admin != null) {
                admin.close(Duration.ofSeconds(1)); // the plain close() waits for unanswered requests without end
            }
        }
    }

    private static Finding unanswered(KafkaConfig kafka, Duration timeout) {
        return Finding.fail("kafka: no broker at " + kafka.bootstrapServers() + " answered within " + timeout.toMillis()
                + "ms; check kafka.bootstrapServers and that the brokers run");
    }
}
