package io.pgrelay.it;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.List;

/** Event positions read back from Kafka records. */
final class Lsns {

    private Lsns() {
    }

    static Position position(ConsumerRecord<String, String> r) {
        return new Position(Lsn.parse(ItSupport.header(r, "pgrelay.commit-lsn")), Long.parseLong(ItSupport.header(r, "pgrelay.seq")));
    }

    static List<Position> positions(List<ConsumerRecord<String, String>> records) {
        return records.stream().filter(r -> r.value() != null).map(Lsns::position).toList();
    }
}
