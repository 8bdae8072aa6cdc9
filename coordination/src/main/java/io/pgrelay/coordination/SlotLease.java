package io.pgrelay.coordination;

import java.time.Duration;

/**
 * A leader's own proof that it still holds the slot: each time its ticker sees the term's walsender
 * as the slot's {@code active_pid} it {@link #confirm}s, and once no confirmation has come for
 * {@code hangTimeout} the lease has {@link #expired}. Pure logic: the caller passes its own
 * monotonic clock.
 *
 * <p>Why: a leader cut off from PostgreSQL by a silent partition (packets dropped, no reset) hears
 * nothing on its replication connection, and a non-blocking read of nothing looks the same as an
 * idle database — its reader loop keeps turning, so its watchdog sees progress. Meanwhile slot-mode
 * standbys evict its walsender after {@code hangTimeout} of silence, and in zookeeper mode it would
 * keep the lock (and every standby idle) for as long as the partition lasts. The lease makes it
 * give up after the same {@code hangTimeout} the standbys wait.
 */
final class SlotLease {

    private final long timeoutNanos;
    /** Written by the ticker, read by the lease check. */
    private volatile long confirmedNanos;

    SlotLease(Duration timeout, long nowNanos) {
        this.timeoutNanos = timeout.toNanos();
        this.confirmedNanos = nowNanos;
    }

    /**
     * The walsender was seen holding the slot by a look that started at {@code startedNanos} (the
     * start, not the end: a query held up by the network says nothing about the time it waited).
     */
    void confirm(long startedNanos) {
        if (startedNanos - confirmedNanos > 0) {
            confirmedNanos = startedNanos;
        }
    }

    boolean expired(long nowNanos) {
        return nowNanos - confirmedNanos >= timeoutNanos;
    }

    Duration unconfirmedFor(long nowNanos) {
        return Duration.ofNanos(Math.max(0, nowNanos - confirmedNanos));
    }
}
