package io.pgrelay.agent.kafka;

import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaSinkSendTest {

    @Test
    void aSendRefusedBeforeItsRecordWasQueuedIsAFailureAtOnce() {
        // what KafkaProducer.send returns when the topic's metadata did not come within max.block.ms
        TimeoutException refused = new TimeoutException("Topic t not present in metadata after 30000 ms.");
        assertThat(KafkaSink.failedAtOnce(CompletableFuture.failedFuture(refused))).contains(refused);
    }

    @Test
    void aSendUnderWayOrAcknowledgedIsNot() {
        assertThat(KafkaSink.failedAtOnce(new CompletableFuture<>())).isEmpty();
        assertThat(KafkaSink.failedAtOnce(CompletableFuture.completedFuture("acked"))).isEmpty();
    }
}
