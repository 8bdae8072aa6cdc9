package io.pgrelay.agent.pipeline;

import java.time.Duration;

/**
 * What a {@link SinkLoop} is configured with.
 *
 * @param commitInterval      the longest a Kafka transaction stays open between PostgreSQL transactions under load
 * @param commitMaxBytes      a Kafka transaction is committed at the next PostgreSQL commit once it holds this much
 * @param maxTransactionBytes a Kafka transaction holding part of a PostgreSQL transaction is committed (the
 *                            PostgreSQL transaction split) at this size ...
 * @param maxTransactionTime  ... or after this long, safely below the producer's {@code transaction.timeout.ms}
 * @param transactionTopic    where BEGIN and END records go; null: none are written
 */
record SinkSettings(String slot, boolean tombstones, Duration commitInterval, long commitMaxBytes,
                    long epoch, String agentId, long maxTransactionBytes, Duration maxTransactionTime,
                    String transactionTopic, String cluster) {
}

