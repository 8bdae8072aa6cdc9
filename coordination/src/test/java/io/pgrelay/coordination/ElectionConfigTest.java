package io.pgrelay.coordination;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ElectionConfigTest {

    @Test
    void defaultsAreApplied() {
        ElectionConfig c = ElectionConfig.builder("demo", "agent-1").slot("s").postgres(() -> null).build();
        assertThat(c.mode()).isEqualTo(ElectionConfig.Mode.SLOT);
        assertThat(c.pollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.hangTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.sessionTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.handoverWindow()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.zkRoot()).isEqualTo("/pgrelay/demo");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThatThrownBy(() -> ElectionConfig.builder("bad name", "").zookeeper(" ").pollInterval(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cluster:")
                .hasMessageContaining("agentId:")
                .hasMessageContaining("slot: required")
                .hasMessageContaining("postgres:")
                .hasMessageContaining("zookeeper.connect:")
                .hasMessageContaining("pollInterval:");
    }

    @Test
    void aHangTimeoutBelowTwoSecondsIsRefused() {
        assertThatThrownBy(() -> ElectionConfig.builder("demo", "a").slot("s").postgres(() -> null)
                .hangTimeout(Duration.ofSeconds(1)).build())
                .hasMessageContaining("hangTimeout: must be at least 2s");
    }
}
