package io.pgrelay.agent.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.agent.event.ChangeEvent;
import io.pgrelay.agent.kafka.Sink;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * What to do with a record larger than the producer's {@code max.request.size}: stop streaming
 * with an error (the default), or, with {@code kafka.onOversized: skip}, write its key and position
 * to the dead-letter topic, count it and go on. Never dropped quietly.
 */
final class OversizedRecords {

    private static final Logger log = LoggerFactory.getLogger(OversizedRecords.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final boolean skip;
    private final String deadLetterTopic;
    private final Sink sink;
    private final StreamStats stats;
    private final String slot;

    OversizedRecords(boolean skip, String deadLetterTopic, Sink sink, StreamStats stats, String slot) {
        this.skip = skip;
        this.deadLetterTopic = deadLetterTopic;
        this.sink = sink;
        this.stats = stats;
        this.slot = slot;
    }

    void handle(ChangeEvent event, String topic, byte[] key, int size, int maxRequestSize) {
        String keyText = key == null ? "(no key)" : new String(key, StandardCharsets.UTF_8);
        String what = "slot " + slot + ": " + event.op().jsonName() + " on " + event.relation().tableId()
                + " key " + keyText + " at LSN " + event.lsn() + " (commit " + event.commitLsn() + " seq " + event.seq()
                + ") is " + size + " bytes, over max.request.size " + maxRequestSize + " for topic " + topic;
        if (!skip) {
            throw new OversizedRecordException(what + "; raise kafka.producer.max.request.size (and the topic's "
                    + "max.message.bytes), or set kafka.onOversized: skip to send its key to the dead-letter topic");
        }
        log.warn("{}; skipped, key and position written to {}", what, deadLetterTopic);
        sink.ensureTopic(deadLetterTopic);
        ObjectNode entry = JSON.createObjectNode()
                .put("table", event.relation().tableId().toString())
                .put("op", event.op().jsonName())
                .put("lsn", event.lsn().toString())
                .put("commitLsn", event.commitLsn().toString())
                .put("seq", event.seq())
                .put("size", size)
                .put("topic", topic);
        entry.set("key", key == null ? null : readKey(key));
        sink.send(deadLetterTopic, key, entry.toString().getBytes(StandardCharsets.UTF_8), new RecordHeaders());
        stats.countSkippedOversized();
    }

    private static JsonNode readKey(byte[] key) {
        try {
            return JSON.readTree(key);
        } catch (java.io.IOException e) {
            return JSON.getNodeFactory().textNode(new String(key, StandardCharsets.UTF_8));
        }
    }

    static final class OversizedRecordException extends io.pgrelay.agent.failure.Failures.FatalException {
        OversizedRecordException(String message) {
            super(message);
        }
    }
}
