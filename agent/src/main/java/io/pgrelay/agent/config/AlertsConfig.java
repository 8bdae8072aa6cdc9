package io.pgrelay.agent.config;

import java.time.Duration;

/**
 * The {@code alerts} section: thresholds every agent checks at each look at the slot, and the
 * optional webhook that is told when an alert fires or resolves. See {@code docs/operations.md}.
 *
 * @param lagBytesWarning  slot lag (WAL not yet confirmed) at which {@code slot_lag_bytes} warns
 * @param lagBytesCritical slot lag at which {@code slot_lag_bytes} is critical
 * @param lagSeconds       replication lag at which {@code replication_lag_seconds} warns
 * @param slotInactiveFor  how long the slot may have no walsender before {@code slot_inactive} fires
 * @param noLeaderFor      how long the cluster may have no leader before {@code no_leader} fires
 */
public record AlertsConfig(long lagBytesWarning, long lagBytesCritical, Duration lagSeconds, Duration slotInactiveFor,
                           Duration noLeaderFor, Webhook webhook) {

    public static final long DEFAULT_LAG_BYTES_WARNING = 1L << 30;      // 1GB
    public static final long DEFAULT_LAG_BYTES_CRITICAL = 5L << 30;     // 5GB
    public static final Duration DEFAULT_LAG_SECONDS = Duration.ofMinutes(5);
    public static final Duration DEFAULT_SLOT_INACTIVE_FOR = Duration.ofMinutes(5);
    public static final Duration DEFAULT_NO_LEADER_FOR = Duration.ofMinutes(1);

    /**
     * {@code alerts.webhook}: where firing and resolved notifications are POSTed.
     *
     * @param url     empty means no webhook; a secret, since such URLs often carry a token
     * @param timeout how long one POST may take
     * @param retries attempts after the first failed one
     * @param backoff wait before the first retry; doubles each time, at most 1 minute
     */
    public record Webhook(Secret url, Duration timeout, int retries, Duration backoff) {
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
        public static final int DEFAULT_RETRIES = 5;
        public static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(1);

        public boolean enabled() {
            return !url.isEmpty();
        }
    }
}
