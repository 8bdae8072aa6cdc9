package io.pgrelay.it;

import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.pgrelay.sandbox.demo.Verdict;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/** A read_committed consumer on its own thread that notes when each record arrived. */
final class LiveConsumer implements AutoCloseable {

    record Arrival(long nanos, ConsumerRecord<String, String> record) {
        long epoch() {
            String e = ItSupport.header(record, "pgrelay.epoch");
            return e == null ? -1 : Long.parseLong(e);
        }
    }

    private final TopicReader reader;
    private final List<Arrival> arrivals = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;

    LiveConsumer(String bootstrap, String topic) {
        this(new TopicReader(bootstrap, topic));
    }

    /** With the client settings given (a secured broker's). */
    LiveConsumer(Map<String, Object> clientConfig, String topic) {
        this(new TopicReader(clientConfig, topic));
    }

    private LiveConsumer(TopicReader reader) {
        this.reader = reader;
        thread = new Thread(() -> {
            while (!closed) {
                List<ConsumerRecord<String, String>> batch = reader.poll(Duration.ofMillis(50));
                long now = System.nanoTime();
                synchronized (arrivals) {
                    batch.forEach(r -> arrivals.add(new Arrival(now, r)));
                }
            }
        }, "live-consumer");
        thread.start();
    }

    List<Arrival> arrivals() {
        synchronized (arrivals) {
            return new ArrayList<>(arrivals);
        }
    }

    List<ConsumerRecord<String, String>> records() {
        return arrivals().stream().map(Arrival::record).toList();
    }

    int size() {
        synchronized (arrivals) {
            return arrivals.size();
        }
    }

    /** When the first record with an epoch above {@code epoch} arrived, if one has. */
    OptionalLong firstArrivalAfterEpoch(long epoch) {
        synchronized (arrivals) {
            return arrivals.stream().filter(a -> a.epoch() > epoch).mapToLong(Arrival::nanos).findFirst();
        }
    }

    /** Producer timestamp (CreateTime, epoch millis) of the first record with an epoch above {@code epoch}. */
    OptionalLong firstTimestampAfterEpoch(long epoch) {
        synchronized (arrivals) {
            return arrivals.stream().filter(a -> a.epoch() > epoch).mapToLong(a -> a.record().timestamp()).findFirst();
        }
    }

    /** When the first record sent (CreateTime) after {@code millis} arrived, if one has. */
    OptionalLong firstArrivalSentAfter(long millis) {
        synchronized (arrivals) {
            return arrivals.stream().filter(a -> a.record().timestamp() > millis).mapToLong(Arrival::nanos).findFirst();
        }
    }

    /**
     * Once the load has stopped: waits until this consumer holds as many events as the table's
     * final row versions imply (at most 60 s), then a second more for strays, and judges them.
     */
    Verdict awaitVerdict(Connection c, String table) throws SQLException, InterruptedException {
        java.util.Map<Long, Integer> versions = Verdict.finalVersions(c, table);
        long expected = Verdict.expectedEvents(versions);
        ItSupport.await("all " + expected + " events", Duration.ofSeconds(60), () -> size() >= expected);
        Thread.sleep(1_000);
        return Verdict.of(records(), versions);
    }

    long maxEpoch() {
        synchronized (arrivals) {
            return arrivals.stream().mapToLong(Arrival::epoch).max().orElse(-1);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(5000);
        reader.close();
    }
}
