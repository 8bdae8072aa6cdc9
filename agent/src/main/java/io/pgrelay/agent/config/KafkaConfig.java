package io.pgrelay.agent.config;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.route.TopicNames;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code kafka} section.
 *
 * @param topics          explicit table-to-topic mapping; it wins over {@code <topicPrefix>.<schema>.<table>}
 * @param producer        kafka-clients producer settings passed through as given
 * @param commitInterval  the longest a Kafka transaction stays open under load
 * @param commitMaxBytes  a transaction is committed once it holds this many bytes of records
 * @param schemaTopic     where schema events (a table's columns when they change) and DDL events go
 * @param maxTransactionBytes the one reason besides time to split a PostgreSQL transaction over Kafka transactions:
 *                        a Kafka transaction holding part of one is committed at this many bytes
 * @param transactionEvents BEGIN and END records of each PostgreSQL transaction on {@code <topicPrefix>._transactions}
 * @param formats         {@code format}, {@code serialization} and {@code debezium}: how row events are written
 * @param security        {@code kafka.security}: TLS and SASL of every Kafka client
 */
public record KafkaConfig(String bootstrapServers, String topicPrefix, Map<TableId, String> topics, boolean tombstones,
                          @JsonSerialize(converter = Masking.ProducerConverter.class) Map<String, String> producer,
                          int partitions, String checkpointTopic, OnOversized onOversized,
                          String deadLetterTopic, Duration commitInterval, long commitMaxBytes,
                          String schemaTopic, long maxTransactionBytes, boolean transactionEvents,
                          FormatConfig formats, KafkaSecurity security) {

    public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(100);
    public static final long DEFAULT_COMMIT_MAX_BYTES = 16L << 20;
    public static final long DEFAULT_MAX_TRANSACTION_BYTES = 1L << 30;

    /** The topic of the BEGIN and END records. */
    public String transactionTopic() {
        return topicPrefix + "._transactions";
    }

    /** What to do with a record larger than the producer's {@code max.request.size}. */
    public enum OnOversized {
        /** stop streaming with an error naming table, key, LSN and size */
        FAIL,
        /** log it, count it, write its key and position to the dead-letter topic, go on */
        SKIP
    }

    public KafkaConfig {
        topics = Map.copyOf(topics);
        producer = Map.copyOf(producer);
    }

    /**
     * The producer settings the agent's producer gets: {@link #producer} as given, over pgrelay's
     * defaults for the serialization. {@code serialization: json-schema} compresses with
     * {@code lz4} unless {@code compression.type} is set: each record repeats its table's whole
     * Connect schema, which lz4 takes out of a batch for little CPU (docs/formats.md, "Throughput by format").
     */
    public Map<String, String> producerSettings() {
        if (formats.serialization() == FormatConfig.Serialization.JSON_SCHEMA && !producer.containsKey(COMPRESSION_TYPE)) {
            Map<String, String> withDefault = new java.util.HashMap<>(producer);
            withDefault.put(COMPRESSION_TYPE, JSON_SCHEMA_COMPRESSION);
            return Map.copyOf(withDefault);
        }
        return producer;
    }

    static final String COMPRESSION_TYPE = "compression.type";
    /** The default {@code compression.type} of {@code serialization: json-schema}. */
    public static final String JSON_SCHEMA_COMPRESSION = "lz4";

    /** The table-to-topic router of this configuration. */
    public TopicNames topicNames() {
        return new TopicNames(topicPrefix, topics);
    }

    @Override
    public String toString() {
        return "KafkaConfig[bootstrapServers=" + bootstrapServers + ", topicPrefix=" + topicPrefix + ", topics=" + topics
                + ", tombstones=" + tombstones + ", producer=" + Masking.producer(producer) + ", partitions=" + partitions
                + ", checkpointTopic=" + checkpointTopic + ", onOversized=" + onOversized + ", deadLetterTopic="
                + deadLetterTopic + ", commitInterval=" + commitInterval + ", commitMaxBytes=" + commitMaxBytes + ", schemaTopic=" + schemaTopic
                + ", maxTransactionBytes=" + maxTransactionBytes + ", transactionEvents=" + transactionEvents + ", formats=" + formats + ", security=" + security + "]";
    }
}
