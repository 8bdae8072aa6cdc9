package io.pgrelay.agent.config;

import java.time.Duration;

/**
 * The {@code heartbeat} section: how often the leader writes a logical decoding message, so the
 * slot's confirmed position moves while the published tables are idle and WAL is not retained
 * for them.
 *
 * @param interval {@link Duration#ZERO} when disabled ({@code 0} or {@code off} in YAML)
 */
public record HeartbeatConfig(Duration interval) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    public boolean enabled() {
        return !interval.isZero();
    }
}
