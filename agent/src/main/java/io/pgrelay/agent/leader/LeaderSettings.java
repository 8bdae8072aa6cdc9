package io.pgrelay.agent.leader;

import io.pgrelay.agent.config.KafkaConfig;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.kafka.KafkaClients;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.pipeline.PipelineSettings;
import io.pgrelay.agent.route.TopicNames;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The agent's configuration as a leader's pipeline and Kafka clients take it. */
final class LeaderSettings {

    private LeaderSettings() {
    }

    static Map<String, Object> kafkaClientConfig(PgRelayConfig config) {
        return KafkaClients.config(config.kafka(), "pgrelay-" + config.agent().id());
    }

    /** The topics of the tables listed in the config, which a leader creates before the first change. */
    static List<String> tableTopics(PgRelayConfig config) {
        TopicNames topics = config.kafka().topicNames();
        return config.postgres().tables().stream().map(topics::topicFor).toList();
    }

    static PipelineSettings pipeline(PgRelayConfig config) {
        return new PipelineSettings(config.postgres().slot(), config.agent().id(),
                config.postgres().statusInterval(), config.kafka().commitInterval(), config.kafka().commitMaxBytes(),
                Duration.ofMillis(2), config.kafka().tombstones(),
                config.kafka().onOversized() == KafkaConfig.OnOversized.SKIP,
                config.kafka().deadLetterTopic(), config.kafka().topicNames(),
                tableTopics(config), config.cluster(),
                config.kafka().schemaTopic(), config.postgres().publication(),
                config.snapshot().mode(), config.snapshot().chunkSize(), config.kafka().maxTransactionBytes(),
                transactionTimeout(config).dividedBy(2),
                config.kafka().transactionEvents() ? config.kafka().transactionTopic() : null);
    }

    /** The producer's transaction timeout: the user's ({@code kafka.producer}), else pgrelay's default. */
    private static Duration transactionTimeout(PgRelayConfig config) {
        String set = config.kafka().producer().get("transaction.timeout.ms");
        return set == null ? KafkaSink.DEFAULT_TRANSACTION_TIMEOUT : Duration.ofMillis(Long.parseLong(set.trim()));
    }
}
