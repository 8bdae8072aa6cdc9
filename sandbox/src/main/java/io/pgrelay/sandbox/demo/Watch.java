package io.pgrelay.sandbox.demo;

import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.time.Duration;

/** Prints a topic's records as a read_committed consumer sees them: {@code Watch BOOTSTRAP TOPIC}. */
public final class Watch {

    private Watch() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: Watch BOOTSTRAP_SERVERS TOPIC");
            System.exit(2);
        }
        try (TopicReader reader = new TopicReader(args[0], args[1])) {
            while (true) {
                for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(500))) {
                    System.out.println(r.partition() + "@" + r.offset() + " " + r.key() + " " + r.value());
                }
            }
        }
    }
}
