package io.pgrelay.agent.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.ChangeEvent;
import io.pgrelay.agent.kafka.EventHeaders;
import io.pgrelay.agent.kafka.Sink;
import io.pgrelay.agent.pgoutput.Begin;
import org.apache.kafka.common.header.Header;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The BEGIN and END records of PostgreSQL transactions ({@code kafka.transactionEvents}):
 * {@code {"status":"BEGIN","xid":…,"commitLsn":"…","committedAt":"…"}}, and for END also
 * {@code "counts":{"public.orders":3}} — the events of each table, so a consumer reading several
 * partitions knows when it holds the whole transaction. Both go in the same Kafka transaction as
 * the rows. Keyed by xid.
 *
 * <p>Thread rule: the sink thread's, like {@link SinkLoop}; state of the transaction being read.
 */
final class TransactionRecords {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Header BEGIN_OP = EventHeaders.opHeader("begin");
    private static final Header END_OP = EventHeaders.opHeader("end");

    private final String topic;
    private final String cluster;
    private final Map<TableId, Long> counts = new LinkedHashMap<>();
    private boolean beginSent;

    TransactionRecords(String topic, String cluster) {
        this.topic = topic;
        this.cluster = cluster;
    }

    /** Sends the BEGIN record of {@code begin}'s transaction. */
    void sendBegin(Sink sink, EventHeaders headers, Begin begin) {
        sink.send(topic, key(begin.xid()), beginValue(begin, ChangeEvent.unixMicros(begin.commitTimeMicros())),
                headers.of(begin.finalLsn().value(), begin.finalLsn().value(), 0, BEGIN_OP));
        beginSent = true;
    }

    /** Sends the END record of {@code begin}'s transaction, at {@code seq}. */
    void sendEnd(Sink sink, EventHeaders headers, Begin begin, long seq) {
        sink.send(topic, key(begin.xid()), endValue(begin, ChangeEvent.unixMicros(begin.commitTimeMicros())),
                headers.of(begin.finalLsn().value(), begin.finalLsn().value(), seq, END_OP));
    }

    /** A new PostgreSQL transaction. */
    void begin() {
        counts.clear();
        beginSent = false;
    }

    /** One event of the transaction, sent now or already in Kafka. */
    void count(TableId table) {
        counts.merge(table, 1L, Long::sum);
    }

    boolean any() {
        return !counts.isEmpty();
    }

    boolean beginSent() {
        return beginSent;
    }

    private static byte[] key(long xid) {
        return Long.toString(xid).getBytes(StandardCharsets.US_ASCII);
    }

    private byte[] beginValue(Begin begin, long committedAtMicros) {
        return write(record("BEGIN", begin, committedAtMicros));
    }

    private byte[] endValue(Begin begin, long committedAtMicros) {
        ObjectNode n = record("END", begin, committedAtMicros);
        ObjectNode c = n.putObject("counts");
        counts.forEach((table, count) -> c.put(table.toString(), count));
        return write(n);
    }

    private ObjectNode record(String status, Begin begin, long committedAtMicros) {
        ObjectNode n = JSON.createObjectNode();
        n.put("status", status);
        n.put("xid", begin.xid());
        n.put("commitLsn", begin.finalLsn().toString());
        n.put("committedAt", Instant.ofEpochSecond(Math.floorDiv(committedAtMicros, 1_000_000L),
                Math.floorMod(committedAtMicros, 1_000_000L) * 1000L).toString());
        n.put("cluster", cluster);
        return n;
    }

    private static byte[] write(ObjectNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
