package io.pgrelay.agent.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The topics a sink writes to, through its admin client: created unless they exist — table topics
 * with {@code kafka.partitions} and the topic settings, the checkpoint and schema topics compacted
 * with one partition — and remembered once seen, so each costs one request per leader; and, for the
 * log line after a slow commit, which of their replicas are out of sync.
 *
 * <p>Thread rule: one thread at a time — a standby's while it prepares, then the sink thread's,
 * handed over by {@link KafkaSink.Prepared#activate()}.
 */
final class KafkaTopics {

    /**
     * One record per Kafka transaction lands on the checkpoints topic; only the newest matters. Small
     * segments let the log cleaner compact it (the active segment never is, and the default is 1 GB).
     */
    static final Map<String, String> CHECKPOINT_TOPIC_CONFIG = Map.of(
            "cleanup.policy", "compact",
            "segment.bytes", String.valueOf(1024 * 1024),
            "min.cleanable.dirty.ratio", "0.1");

    /**
     * The schema topic keeps, per table, its schema events of the last week and then the last one: a
     * new leader reads it whole to know what it published (see {@code SchemaTopicReader}).
     */
    static final Map<String, String> SCHEMA_TOPIC_CONFIG = Map.of(
            "cleanup.policy", "compact",
            "min.compaction.lag.ms", String.valueOf(Duration.ofDays(7).toMillis()));

    /** How long {@link #replicaHealth()} asks the brokers: it is only for a log line. */
    private static final Duration REPLICA_HEALTH_WAIT = Duration.ofSeconds(1);

    private final Admin admin;
    private final int partitions;
    private final Map<String, String> topicConfig;
    private final Set<String> known = new HashSet<>();

    /** @param topicConfig the settings of every topic the sink creates ({@code max.message.bytes} when records may be large) */
    KafkaTopics(Admin admin, int partitions, Map<String, String> topicConfig) {
        this.admin = admin;
        this.partitions = partitions;
        this.topicConfig = topicConfig;
    }

    /** A table's (or the transactions', or the dead letters') topic, with the configured partitions. */
    void ensure(String topic) {
        ensure(topic, partitions, topicConfig);
    }

    /** The schema topic: compacted, one partition, so that schema and DDL events keep one order. */
    void ensureSchema(String topic) {
        Map<String, String> config = new HashMap<>(topicConfig);
        config.putAll(SCHEMA_TOPIC_CONFIG);
        ensure(topic, 1, config);
    }

    /** The checkpoint topic: compacted, one partition. */
    void ensureCheckpoint(String topic) {
        ensure(topic, 1, CHECKPOINT_TOPIC_CONFIG);
    }

    private void ensure(String topic, int partitionCount, Map<String, String> config) {
        if (known.contains(topic)) {
            return;
        }
        NewTopic t = new NewTopic(topic, Optional.of(partitionCount), Optional.empty()).configs(config);
        try {
            admin.createTopics(Set.of(t)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicAuthorizationException) {
                throw new KafkaSink.KafkaSinkException(KafkaFailures.describe(e.getCause(), "CREATE", "topic " + topic), e.getCause());
            }
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new KafkaSink.KafkaSinkException("could not create topic " + topic + ": " + KafkaFailures.describe(e.getCause()),
                        e.getCause());
            }
        } catch (TimeoutException e) {
            throw new KafkaSink.KafkaSinkException("creating topic " + topic + " timed out after 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaSink.KafkaSinkException("interrupted while creating topic " + topic, e);
        }
        known.add(topic);
    }

    /**
     * Replicas of these topics' partitions that are out of sync, by broker, and partitions without a
     * leader, as the cluster's metadata says now. A SIGKILLed broker stays in every ISR, holding up
     * each {@code acks=all} write and the commit, until the controller fences it
     * ({@code broker.session.timeout.ms}, 9 s by default); once the commit went through, it shows here
     * as the replica out of sync.
     */
    String replicaHealth() {
        Map<Integer, List<String>> outOfSync = new TreeMap<>();
        List<String> leaderless = new ArrayList<>();
        Map<Integer, Node> brokers = new HashMap<>();
        try {
            var topics = admin.describeTopics(known, new DescribeTopicsOptions()
                    .timeoutMs((int) REPLICA_HEALTH_WAIT.toMillis())).allTopicNames()
                    .get(REPLICA_HEALTH_WAIT.toMillis() + 500, TimeUnit.MILLISECONDS);
            for (var topic : topics.values()) {
                for (var p : topic.partitions()) {
                    String name = topic.name() + "-" + p.partition();
                    if (p.leader() == null || p.leader().isEmpty()) {
                        leaderless.add(name);
                    }
                    for (var replica : p.replicas()) {
                        brokers.put(replica.id(), replica);
                        if (!p.isr().contains(replica)) {
                            outOfSync.computeIfAbsent(replica.id(), k -> new ArrayList<>()).add(name);
                        }
                    }
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            return "the brokers' state is unknown: " + (e.getCause() == null ? e : e.getCause()).getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
        if (outOfSync.isEmpty() && leaderless.isEmpty()) {
            return "every replica is in sync now";
        }
        StringBuilder b = new StringBuilder();
        outOfSync.forEach((id, names) -> b.append(b.isEmpty() ? "" : "; ").append("broker ").append(id)
                .append(address(brokers.get(id)))
                .append(" out of sync on ").append(names.size()).append(" partition(s): ").append(abbreviate(names)));
        if (!leaderless.isEmpty()) {
            b.append(b.isEmpty() ? "" : "; ").append("no leader for ").append(abbreviate(leaderless));
        }
        return b.toString();
    }

    /** A fenced broker's replica comes without an address: the metadata says only its id. */
    private static String address(Node broker) {
        return broker.host().isEmpty() || broker.port() < 0 ? " (fenced: down or unreachable)" : " (" + broker.host() + ":" + broker.port() + ")";
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 4 ? String.join(", ", names) : String.join(", ", names.subList(0, 4)) + ", …";
    }
}
