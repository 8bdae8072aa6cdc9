package io.pgrelay.sandbox.server;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A {@code read_committed} consumer over whole topics, from the beginning, with no consumer group:
 * what a downstream reader of pgrelay sees.
 */
public final class TopicReader implements AutoCloseable {

    private final KafkaConsumer<String, String> consumer;
    private final List<ConsumerRecord<String, String>> records = new ArrayList<>();

    public TopicReader(String bootstrapServers, String... topics) {
        this(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topics);
    }

    /** A reader with client settings of its own (bootstrap servers, security), e.g. {@link SecureKafka#superUserClientConfig}. */
    public TopicReader(Map<String, Object> clientConfig, String... topics) {
        Map<String, Object> props = new java.util.HashMap<>(clientConfig);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 60_000;
        for (String topic : topics) {
            List<PartitionInfo> infos;
            // The agent creates topics when it first sees a table: wait for them.
            while ((infos = consumer.partitionsFor(topic, Duration.ofSeconds(5))) == null || infos.isEmpty()) {
                if (System.currentTimeMillis() > deadline) {
                    consumer.close();
                    throw new IllegalStateException("topic " + topic + " did not appear within 60 s");
                }
                sleep(200);
            }
            infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls until {@code done} holds for what was read so far, or the timeout passes; returns everything read. */
    public List<ConsumerRecord<String, String>> readUntil(Predicate<List<ConsumerRecord<String, String>>> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(records) && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                records.add(r);
            }
        }
        return List.copyOf(records);
    }

    /** Polls until at least {@code count} records were read or the timeout passes. */
    public List<ConsumerRecord<String, String>> readAtLeast(int count, Duration timeout) {
        return readUntil(r -> r.size() >= count, timeout);
    }

    /** One poll; what it returns is also kept. */
    public List<ConsumerRecord<String, String>> poll(Duration timeout) {
        List<ConsumerRecord<String, String>> batch = new ArrayList<>();
        consumer.poll(timeout).forEach(batch::add);
        records.addAll(batch);
        return batch;
    }

    /** Keeps polling for {@code quiet} after the last record arrived (to catch duplicates). */
    public List<ConsumerRecord<String, String>> drain(Duration quiet) {
        long last = System.nanoTime();
        while (System.nanoTime() - last < quiet.toNanos()) {
            var batch = consumer.poll(Duration.ofMillis(200));
            if (!batch.isEmpty()) {
                batch.forEach(records::add);
                last = System.nanoTime();
            }
        }
        return List.copyOf(records);
    }

    /**
     * Streams records to {@code each} without keeping them, until {@code count} were seen or the
     * timeout passes; returns how many were seen.
     */
    public long forEach(long count, Duration timeout, java.util.function.Consumer<ConsumerRecord<String, String>> each) {
        long seen = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (seen < count && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                each.accept(r);
                seen++;
            }
        }
        return seen;
    }

    public List<ConsumerRecord<String, String>> records() {
        return List.copyOf(records);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
