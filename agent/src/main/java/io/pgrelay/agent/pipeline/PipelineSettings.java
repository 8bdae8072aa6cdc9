package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.config.SnapshotConfig;
import io.pgrelay.agent.route.TopicNames;

import java.time.Duration;
import java.util.List;

/**
 * Settings of one pipeline, taken from the agent's configuration.
 *
 * @param maxTransactionBytes a PostgreSQL transaction is split over Kafka transactions only past this size ...
 * @param maxTransactionTime  ... or once its Kafka transaction has been open this long
 * @param transactionTopic    where BEGIN and END records go; null: none
 */
public record PipelineSettings(String slot, String agentId, Duration statusInterval, Duration commitInterval,
                               long commitMaxBytes, Duration idleCommitDelay, boolean tombstones,
                               boolean skipOversized, String deadLetterTopic,
                               TopicNames topics,
                               List<String> initialTopics, String cluster, String schemaTopic,
                               String publication, SnapshotConfig.Mode snapshotMode,
                               int snapshotChunkSize, long maxTransactionBytes, Duration maxTransactionTime,
                               String transactionTopic) {
}
