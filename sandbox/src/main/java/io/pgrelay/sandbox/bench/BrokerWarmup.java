package io.pgrelay.sandbox.bench;

import io.pgrelay.sandbox.Sandbox;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * Untimed traffic through the fresh broker before the first measured run: transactional writes
 * (pgrelay's way), plain acknowledged ones (Debezium's sink's way) and a {@code read_committed}
 * read of both, as the benchmark's counting consumer does. The broker runs in the
 * benchmark's JVM and starts cold; without this, whichever Kafka candidate drains first pays for
 * the broker's JIT warm-up (a first pgrelay run measured ~25 % slower than its repeat).
 */
final class BrokerWarmup {

    private BrokerWarmup() {
    }

    static void run(Sandbox sandbox, int records) throws Exception {
        if (records <= 0) {
            return;
        }
        long t0 = System.nanoTime();
        String topic = "bench_warmup";
        KafkaCandidate.createTopic(sandbox, topic);
        byte[] value = new byte[300];
        Arrays.fill(value, (byte) 'x');
        Map<String, Object> props = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-warmup",
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            for (int i = 0; i < records; i += 1_000) {
                producer.beginTransaction();
                for (int j = i; j < Math.min(records, i + 1_000); j++) {
                    producer.send(new ProducerRecord<>(topic, Integer.toString(j).getBytes(StandardCharsets.US_ASCII), value));
                }
                producer.commitTransaction();
            }
        }
        // and plain acknowledged writes, the way Debezium's sink produces
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sandbox.kafka().bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int j = 0; j < records; j++) {
                producer.send(new ProducerRecord<>(topic, Integer.toString(j).getBytes(StandardCharsets.US_ASCII), value));
            }
            producer.flush();
        }
        ReadCommittedReader reader = new ReadCommittedReader(sandbox.kafka().bootstrapServers(), topic, 2L * records, null);
        reader.start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (reader.doneAt() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            reader.stop();
        }
        System.err.printf("bench: broker warmed up with %,d transactional and %,d plain records in %.1f s (untimed)%n",
                records, records, (System.nanoTime() - t0) / 1e9);
    }
}
