package io.pgrelay.coordination;

import java.time.Duration;

/**
 * Decides, from successive looks at the slot, whether the walsender holding it is hung. Pure
 * logic: the caller passes the observation and its own monotonic clock.
 *
 * <p>Why not {@code now() - reply_time}: {@code pg_stat_replication.reply_time} is the send time
 * stamped by the <em>client's</em> clock in its standby status update, so comparing it with the
 * server's {@code now()} would count clock skew between the leader's host and the database as
 * silence. Instead this watches whether the value changes: a live leader sends a status update at
 * least every second, so {@code reply_time} moves; if it stays the same for {@code hangTimeout}
 * by this standby's own clock, the leader has stopped replying. Before the first reply
 * {@code reply_time} is NULL and the walsender's {@code backend_start} stands in, so a client
 * that connects and never replies is also caught.
 *
 * <p>A standby that starts watching a slot needs a full {@code hangTimeout} of its own
 * observation before it calls the holder hung. Only the election thread uses an instance.
 */
final class HangDetector {

    /** What one look at the slot showed. */
    enum Verdict {
        /** The slot does not exist. */
        MISSING,
        /** Nobody streams from the slot: race for it. */
        FREE,
        /** A walsender holds it and replied recently, or we cannot tell. */
        HELD,
        /** The walsender holding it has been silent for at least {@code hangTimeout}. */
        HUNG
    }

    /**
     * @param exists      the slot exists
     * @param active      {@code pg_replication_slots.active}
     * @param activePid   {@code pg_replication_slots.active_pid}, null when inactive
     * @param replyMarker {@code coalesce(reply_time, backend_start)} of that walsender as text, or
     *                    null when no {@code pg_stat_replication} row matches (e.g. a SQL-function
     *                    consumer, or we may not see other roles' rows)
     */
    record SlotObservation(boolean exists, boolean active, Integer activePid, String replyMarker) {
    }

    private final long hangTimeoutNanos;
    private Integer watchedPid;
    private String watchedMarker;
    private long unchangedSinceNanos;

    HangDetector(Duration hangTimeout) {
        this.hangTimeoutNanos = hangTimeout.toNanos();
    }

    Verdict judge(SlotObservation o, long nowNanos) {
        if (!o.exists()) {
            forget();
            return Verdict.MISSING;
        }
        if (!o.active() || o.activePid() == null) {
            forget();
            return Verdict.FREE;
        }
        if (o.replyMarker() == null) {
            forget();
            return Verdict.HELD;
        }
        if (!o.activePid().equals(watchedPid) || !o.replyMarker().equals(watchedMarker)) {
            watchedPid = o.activePid();
            watchedMarker = o.replyMarker();
            unchangedSinceNanos = nowNanos;
            return Verdict.HELD;
        }
        return nowNanos - unchangedSinceNanos >= hangTimeoutNanos ? Verdict.HUNG : Verdict.HELD;
    }

    /** How long the watched walsender has been silent, as of {@code nowNanos}. */
    Duration silentFor(long nowNanos) {
        return watchedPid == null ? Duration.ZERO : Duration.ofNanos(nowNanos - unchangedSinceNanos);
    }

    void forget() {
        watchedPid = null;
        watchedMarker = null;
    }
}
