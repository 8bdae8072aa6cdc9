package io.pgrelay.agent.kafka;

import io.pgrelay.agent.config.KafkaConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Answers "can this agent reach Kafka with its settings, and may it do what a leader does?" for
 * {@code check}. The permissions are read without side effects: a topic's authorized operations
 * (from describing it), CREATE of a missing topic by a validate-only request, and the transactional
 * id by describing its transaction. WRITE on the transactional id itself is not tried: that takes
 * {@code initTransactions()}, which would fence a running leader; without WRITE (and without
 * DESCRIBE, which WRITE implies) describing it fails, and a leader's start names it.
 */
public final class KafkaProbe {

    private KafkaProbe() {
    }

    public static List<Finding> check(PgRelayConfig config, String clientId, Duration timeout) {
        KafkaConfig kafka = config.kafka();
        Map<String, Object> p = KafkaClients.config(kafka, clientId);
        // one connection attempt a second, not ten: an unreachable broker is reported once, in the finding
        p.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "1000");
        p.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        int ms = (int) timeout.toMillis();
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        Admin admin = null;
        try {
            admin = Admin.create(p);
            DescribeClusterResult cluster = admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms));
            Collection<Node> nodes = cluster.nodes().get(ms + 1000L, TimeUnit.MILLISECONDS);
            String id = cluster.clusterId().get(ms + 1000L, TimeUnit.MILLISECONDS);
            List<Finding> findings = new ArrayList<>();
            findings.add(Finding.ok("kafka: reached cluster " + id + " (" + nodes.size() + (nodes.size() == 1 ? " broker" : " brokers")
                    + ") at " + kafka.bootstrapServers() + protocol(kafka)));
            findings.addAll(permissions(admin, config, ms));
            return findings;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                return List.of(unanswered(kafka, timeout));
            }
            return List.of(Finding.fail("kafka: cannot use " + kafka.bootstrapServers() + ": " + KafkaFailures.describe(cause)));
        } catch (TimeoutException e) {
            return List.of(unanswered(kafka, timeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of(Finding.fail("kafka: interrupted while reaching " + kafka.bootstrapServers()));
        } catch (RuntimeException e) { // bad client settings, unresolvable bootstrap host
            return List.of(Finding.fail("kafka: cannot use " + kafka.bootstrapServers() + ": " + e.getMessage()
                    + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")")));
        } finally {
            if (admin != null) {
                admin.close(Duration.ofSeconds(1)); // the plain close() waits for unanswered requests without end
            }
        }
    }

    private static String protocol(KafkaConfig kafka) {
        var s = kafka.security();
        if (!s.configured()) {
            return "";
        }
        return " over " + s.protocol() + (s.protocol().sasl() ? " as " + s.username() + " (" + s.mechanism().text() + ")" : "");
    }

    /** The topics a leader writes (and reads: the checkpoint and schema topics), and its transactional id. */
    private static List<Finding> permissions(Admin admin, PgRelayConfig config, int ms) throws InterruptedException {
        KafkaConfig kafka = config.kafka();
        Map<String, Set<AclOperation>> needed = new LinkedHashMap<>();
        // CREATE too: a leader asks to create each topic at its start, and Kafka checks CREATE before it looks whether the topic exists
        Set<AclOperation> write = Set.of(AclOperation.CREATE, AclOperation.WRITE);
        Set<AclOperation> readWrite = Set.of(AclOperation.CREATE, AclOperation.WRITE, AclOperation.READ);
        needed.put(kafka.checkpointTopic(), readWrite);
        needed.put(kafka.schemaTopic(), readWrite);
        config.postgres().tables().forEach(t -> needed.putIfAbsent(kafka.topicNames().topicFor(t), write));
        if (kafka.transactionEvents()) {
            needed.putIfAbsent(kafka.transactionTopic(), write);
        }
        List<Finding> findings = new ArrayList<>();
        List<String> fine = new ArrayList<>();
        for (Map.Entry<String, Set<AclOperation>> e : needed.entrySet()) {
            Finding f = topic(admin, e.getKey(), e.getValue(), ms);
            if (f == null) {
                fine.add(e.getKey());
            } else {
                findings.add(f);
            }
        }
        if (!fine.isEmpty()) {
            findings.add(0, Finding.ok("kafka: may use topics " + String.join(", ", fine)));
        }
        findings.add(transactionalId(admin, "pgrelay-" + config.cluster(), ms));
        return findings;
    }

    /** Null when the principal may do {@code ops} on the topic, or create it if it is missing. */
    private static Finding topic(Admin admin, String topic, Set<AclOperation> ops, int ms) throws InterruptedException {
        try {
            TopicDescription d = admin.describeTopics(List.of(topic), new DescribeTopicsOptions().includeAuthorizedOperations(true)
                    .timeoutMs(ms)).allTopicNames().get(ms + 1000L, TimeUnit.MILLISECONDS).get(topic);
            Set<AclOperation> allowed = d.authorizedOperations();
            List<String> missing = ops.stream().filter(op -> allowed != null && !allowed.contains(op))
                    .filter(op -> op != AclOperation.CREATE || !mayCreate(admin, topic, ms)).map(Enum::name).sorted().toList();
            return missing.isEmpty() ? null : Finding.fail("kafka: not authorized to " + String.join(" and ", missing) + " topic " + topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicAuthorizationException) {
                return Finding.fail("kafka: not authorized to DESCRIBE topic " + topic + " (WRITE or READ on it would allow that)");
            }
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return missingTopic(admin, topic, ms);
            }
            return Finding.fail("kafka: cannot describe topic " + topic + ": " + KafkaFailures.describe(e.getCause()));
        } catch (TimeoutException e) {
            return Finding.fail("kafka: describing topic " + topic + " got no answer within " + ms + "ms");
        }
    }

    /** CREATE granted on the cluster rather than the topic: a validate-only create then answers that the topic exists. */
    private static boolean mayCreate(Admin admin, String topic, int ms) {
        try {
            admin.createTopics(List.of(new NewTopic(topic, java.util.Optional.empty(), java.util.Optional.empty())),
                    new CreateTopicsOptions().validateOnly(true).timeoutMs(ms)).all().get(ms + 1000L, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            return !(e.getCause() instanceof TopicAuthorizationException);
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static Finding missingTopic(Admin admin, String topic, int ms) throws InterruptedException {
        try {
            admin.createTopics(List.of(new NewTopic(topic, java.util.Optional.empty(), java.util.Optional.empty())),
                    new CreateTopicsOptions().validateOnly(true).timeoutMs(ms)).all().get(ms + 1000L, TimeUnit.MILLISECONDS);
            return Finding.note("kafka: topic " + topic + " does not exist yet; the agent may CREATE it (what it may do with it"
                    + " is checked once it exists)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicAuthorizationException) {
                return Finding.fail("kafka: not authorized to CREATE topic " + topic + ", which does not exist");
            }
            return Finding.fail("kafka: cannot create topic " + topic + ": " + KafkaFailures.describe(e.getCause()));
        } catch (TimeoutException e) {
            return Finding.fail("kafka: creating topic " + topic + " (validate only) got no answer within " + ms + "ms");
        }
    }

    private static Finding transactionalId(Admin admin, String id, int ms) throws InterruptedException {
        String untested = " (WRITE is tried only by a leader's start: trying it here would fence the running leader)";
        try {
            admin.describeTransactions(List.of(id)).description(id).get(ms + 1000L, TimeUnit.MILLISECONDS);
            return Finding.ok("kafka: may DESCRIBE transactional id " + id + untested);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TransactionalIdNotFoundException) {
                return Finding.ok("kafka: may DESCRIBE transactional id " + id + ", not used yet" + untested);
            }
            if (e.getCause() instanceof TransactionalIdAuthorizationException) {
                return Finding.fail("kafka: not authorized to WRITE (nor DESCRIBE) TRANSACTIONAL_ID " + id);
            }
            return Finding.fail("kafka: cannot describe transactional id " + id + ": " + KafkaFailures.describe(e.getCause()));
        } catch (TimeoutException e) {
            return Finding.fail("kafka: describing transactional id " + id + " got no answer within " + ms + "ms");
        }
    }

    private static Finding unanswered(KafkaConfig kafka, Duration timeout) {
        return Finding.fail("kafka: no broker at " + kafka.bootstrapServers() + " answered within " + timeout.toMillis()
                + "ms; check kafka.bootstrapServers and that the brokers run");
    }
}
