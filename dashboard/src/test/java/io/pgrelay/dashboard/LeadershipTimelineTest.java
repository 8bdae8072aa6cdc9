package io.pgrelay.dashboard;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class LeadershipTimelineTest {

    @Test
    void timelineRecordsOnlyChangesOfLeaderOrEpoch() {
        LeadershipTimeline t = new LeadershipTimeline(10);
        Instant now = Instant.parse("2026-11-22T10:00:00Z");
        assertThat(t.observe(now, "agent-1", 1)).isTrue();
        assertThat(t.observe(now.plusSeconds(1), "agent-1", 1)).isFalse();
        assertThat(t.observe(now.plusSeconds(2), null, 0)).isFalse();
        assertThat(t.observe(now.plusSeconds(3), "agent-2", 2)).isTrue();
        assertThat(t.observe(now.plusSeconds(4), "agent-2", 3)).isTrue();
        assertThat(t.toJson().toString()).isEqualTo("[{\"at\":\"2026-11-22T10:00:00Z\",\"leader\":\"agent-1\",\"epoch\":1,\"previous\":null},"
                + "{\"at\":\"2026-11-22T10:00:03Z\",\"leader\":\"agent-2\",\"epoch\":2,\"previous\":\"agent-1\"},"
                + "{\"at\":\"2026-11-22T10:00:04Z\",\"leader\":\"agent-2\",\"epoch\":3,\"previous\":\"agent-2\"}]");
    }
}
