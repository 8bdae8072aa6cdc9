package io.pgrelay.agent.kafka;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ProducerConfigTest {

    private static final Map<String, Object> CLIENT = Map.of("bootstrap.servers", "127.0.0.1:9092");

    @Test
    void theBufferIsFourMegabytesUnlessSet() {
        assertThat(KafkaSink.producerConfig(CLIENT, Map.of(), "c")).containsEntry("buffer.memory", "4194304");
        assertThat(KafkaSink.producerConfig(CLIENT, Map.of("buffer.memory", "33554432"), "c"))
                .containsEntry("buffer.memory", "33554432");
    }

    @Test
    void theBufferHoldsTwoRecordsOfTheLargestSize() {
        assertThat(KafkaSink.producerConfig(CLIENT, Map.of("max.request.size", "10485760"), "c"))
                .containsEntry("buffer.memory", "20971520");
    }

    @Test
    void theGuaranteesWinOverTheUsersSettings() {
        Map<String, Object> props = KafkaSink.producerConfig(CLIENT,
                Map.of("linger.ms", "20", "transactional.id", "mine", "acks", "1"), "orders");
        assertThat(props).containsEntry("linger.ms", "20").containsEntry("transactional.id", "pgrelay-orders")
                .containsEntry("acks", "all").containsEntry("enable.idempotence", "true");
    }
}
