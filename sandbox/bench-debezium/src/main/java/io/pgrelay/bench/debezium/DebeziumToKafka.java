package io.pgrelay.bench.debezium;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The benchmark's Debezium candidate: Debezium's embedded engine ({@code PostgresConnector},
 * {@code pgoutput}, JSON without schemas) writing every change to Kafka the way Debezium Server's
 * Kafka sink ({@code io.debezium.server.kafka.KafkaChangeConsumer}) does: for each batch, send
 * every record with a plain {@link KafkaProducer}, wait until every one is acknowledged, then mark
 * the records processed and the batch finished, so offsets only move past acknowledged records.
 *
 * <p>Usage: {@code DebeziumToKafka <engine.properties> <producer.properties>}. Runs until killed;
 * exits with 1 when the engine stops by itself or a send fails.
 */
public final class DebeziumToKafka {

    private DebeziumToKafka() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DebeziumToKafka <engine.properties> <producer.properties>");
            System.exit(2);
        }
        Properties engineProps = load(Path.of(args[0]));
        Properties producerProps = load(Path.of(args[1]));
        KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer());
        AtomicReference<Throwable> stopped = new AtomicReference<>();
        CountDownLatch engineDone = new CountDownLatch(1);
        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(engineProps)
                .notifying(new KafkaSinkConsumer(producer))
                .using((success, message, error) -> {
                    if (!success) {
                        System.err.println("debezium: engine stopped: " + message);
                        stopped.set(error != null ? error : new IllegalStateException(message));
                    }
                    engineDone.countDown();
                })
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                engine.close();
                engineDone.await(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                System.err.println("debezium: closing the engine failed: " + e);
            } finally {
                producer.close();
            }
        }, "debezium-shutdown"));
        executor.execute(engine);
        engineDone.await();
        if (stopped.get() != null) {
            stopped.get().printStackTrace();
        }
        Runtime.getRuntime().halt(1);
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return p;
    }

    /** Debezium Server's Kafka sink, minus its configuration plumbing: send all, await all acks, then commit. */
    private static final class KafkaSinkConsumer implements DebeziumEngine.ChangeConsumer<ChangeEvent<String, String>> {

        private final KafkaProducer<String, String> producer;

        KafkaSinkConsumer(KafkaProducer<String, String> producer) {
            this.producer = producer;
        }

        @Override
        public void handleBatch(List<ChangeEvent<String, String>> records,
                                DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer) throws InterruptedException {
            CountDownLatch acked = new CountDownLatch(records.size());
            AtomicReference<Exception> failed = new AtomicReference<>();
            for (ChangeEvent<String, String> r : records) {
                // Callbacks run on the producer's I/O thread: record and return.
                producer.send(new ProducerRecord<>(r.destination(), r.key(), r.value()), (metadata, e) -> {
                    if (e != null) {
                        failed.compareAndSet(null, e);
                    }
                    acked.countDown();
                });
                committer.markProcessed(r);
            }
            if (!acked.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("debezium: " + acked.getCount() + " of " + records.size()
                        + " records not acknowledged by Kafka within 60 s");
            }
            if (failed.get() != null) {
                throw new IllegalStateException("debezium: sending to Kafka failed: " + failed.get().getMessage(), failed.get());
            }
            committer.markBatchFinished();
        }
    }
}
