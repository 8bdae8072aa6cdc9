package io.pgrelay.agent.kafka;

import io.pgrelay.agent.checkpoint.Checkpoint;
import org.apache.kafka.common.header.Header;

import java.util.List;

/**
 * Where the sink loop writes: one Kafka transaction at a time, opened by {@link #begin()} or the
 * first {@link #send}, closed by {@link #commit} with the checkpoint that records it. The
 * implementation owns the transaction's state (open or not, its bytes, records and start time);
 * the loop only asks. {@link KafkaSink} is the one implementation in the agent.
 *
 * <p>Thread rule: one thread (the pipeline's sink thread) calls every method.
 */
public interface Sink {

    /** Per-record overhead of Kafka's v2 record format, generously rounded up. */
    int RECORD_OVERHEAD = 128;

    /** Creates the topic with the configured partitions unless it exists. */
    void ensureTopic(String topic);

    /** The producer's {@code max.request.size}: a record estimated larger is not sent. */
    int maxRequestSize();

    /** Opens a Kafka transaction unless one is open. */
    void begin();

    /** Sends a record in the current Kafka transaction, opening one when none is open. */
    void send(String topic, byte[] key, byte[] value, Iterable<Header> headers);

    /**
     * Sends one record to every partition of the topic, in the current Kafka transaction: a marker
     * that a consumer of any one partition must see in its place (a keyless table starting over).
     */
    void sendToEveryPartition(String topic, byte[] key, byte[] value, Iterable<Header> headers);

    boolean inTransaction();

    /** Key and value bytes sent in the open transaction. */
    long transactionBytes();

    /** Records sent in the open transaction (the checkpoint not counted). */
    long transactionRecords();

    /** {@link System#nanoTime()} when the open transaction began. */
    long transactionStartNanos();

    /**
     * Writes the checkpoint and commits the open transaction; nothing when none is open. When this
     * returns, every record sent since the last commit is durable.
     */
    void commit(Checkpoint checkpoint);

    /** Aborts the open transaction (nothing sent since the last commit becomes visible); nothing when none is open. */
    void abort();

    /**
     * After a slow commit, what the brokers look like now, for the log: which replicas of the
     * sink's partitions are out of sync (the brokers a commit waits for when one dies). May ask
     * Kafka, briefly; never throws.
     */
    default String replicaHealth() {
        return "";
    }

    /** The estimated size of a record as the producer checks it against {@code max.request.size}. */
    static int estimateSize(byte[] key, byte[] value, List<Header> headers) {
        int size = RECORD_OVERHEAD + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (int i = 0; i < headers.size(); i++) {
            Header h = headers.get(i);
            size += h.key().length() + (h.value() == null ? 0 : h.value().length) + 8;
        }
        return size;
    }
}
