package io.pgrelay.agent.kafka;

import io.pgrelay.agent.event.Op;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class EventHeadersTest {

    @Test
    void everyEventGetsTheSixHeadersOfTheDesignInOrder() {
        EventHeaders headers = new EventHeaders(7, "agent-a");
        assertEquals(Map.of("pgrelay.lsn", "0/1A2B3C4", "pgrelay.commit-lsn", "0/1A2B400", "pgrelay.seq", "3",
                        "pgrelay.op", "update", "pgrelay.epoch", "7", "pgrelay.agent", "agent-a"),
                text(headers.of(0x1A2B3C4L, 0x1A2B400L, 3, Op.UPDATE)));
        assertEquals(List.of("pgrelay.lsn", "pgrelay.commit-lsn", "pgrelay.seq", "pgrelay.op", "pgrelay.epoch", "pgrelay.agent"),
                List.copyOf(text(headers.of(1, 2, 0, Op.INSERT)).keySet()));
    }

    @Test
    void aRecordKeepsItsHeadersWhenTheNextEventReusesTheArray() {
        EventHeaders headers = new EventHeaders(1, "a");
        ProducerRecord<byte[], byte[]> first = new ProducerRecord<>("t", null, new byte[0], new byte[0], headers.of(0x10, 0x20, 0, Op.INSERT));
        ProducerRecord<byte[], byte[]> second = new ProducerRecord<>("t", null, new byte[0], new byte[0], headers.of(0x11, 0x30, 0, Op.DELETE));
        assertEquals("0/10", value(first.headers().lastHeader("pgrelay.lsn")));
        assertEquals("0/20", value(first.headers().lastHeader("pgrelay.commit-lsn")));
        assertEquals("insert", value(first.headers().lastHeader("pgrelay.op")));
        assertEquals("0/11", value(second.headers().lastHeader("pgrelay.lsn")));
        assertEquals("delete", value(second.headers().lastHeader("pgrelay.op")));
    }

    @Test
    void theCommitLsnHeaderIsMadeOncePerTransaction() {
        EventHeaders headers = new EventHeaders(1, "a");
        Header first = headers.of(0x10, 0x20, 0, Op.INSERT).get(1);
        assertSame(first, headers.of(0x11, 0x20, 1, Op.INSERT).get(1));
        assertEquals("0/30", value(headers.of(0x21, 0x30, 0, Op.INSERT).get(1)));
    }

    private static Map<String, String> text(List<Header> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.forEach(h -> out.put(h.key(), value(h)));
        return out;
    }

    private static String value(Header h) {
        return new String(h.value(), StandardCharsets.UTF_8);
    }
}
