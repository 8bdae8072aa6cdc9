package io.pgrelay.sandbox.demo;

import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A read_committed consumer on its own thread, noting when each record arrived. */
final class LiveConsumer implements AutoCloseable {

    private record Arrival(long nanos, long epoch, ConsumerRecord<String, String> record) {
    }

    private final TopicReader reader;
    private final List<Arrival> arrivals = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile long maxEpoch = -1;

    LiveConsumer(String bootstrapServers, String topic) {
        reader = new TopicReader(bootstrapServers, topic);
        thread = new Thread(() -> {
            while (!closed) {
                List<ConsumerRecord<String, String>> batch = reader.poll(Duration.ofMillis(50));
                long now = System.nanoTime();
                synchronized (arrivals) {
                    for (ConsumerRecord<String, String> r : batch) {
                        Arrival a = new Arrival(now, epochOf(r), r);
                        arrivals.add(a);
                        maxEpoch = Math.max(maxEpoch, a.epoch());
                    }
                }
            }
        }, "drill-consumer");
        thread.setDaemon(true);
        thread.start();
    }

    private static long epochOf(ConsumerRecord<String, String> r) {
        Header h = r.headers().lastHeader("pgrelay.epoch");
        return h == null ? -1 : Long.parseLong(new String(h.value(), StandardCharsets.UTF_8));
    }

    List<ConsumerRecord<String, String>> records() {
        synchronized (arrivals) {
            return arrivals.stream().map(Arrival::record).toList();
        }
    }

    long maxEpoch() {
        return maxEpoch;
    }

    java.util.OptionalLong firstArrivalAfterEpoch(long epoch) {
        synchronized (arrivals) {
            return arrivals.stream().filter(a -> a.epoch() > epoch).mapToLong(Arrival::nanos).findFirst();
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(5_000);
        reader.close();
    }
}
