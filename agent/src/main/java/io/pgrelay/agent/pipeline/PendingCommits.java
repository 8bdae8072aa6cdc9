package io.pgrelay.agent.pipeline;

import java.time.Instant;
import java.util.Arrays;

/**
 * PostgreSQL commit times (µs since the epoch) of the transactions whose last event is in the open
 * Kafka transaction: their end-to-end latency is recorded when it commits. A primitive array that
 * only grows, so the per-transaction path allocates nothing in steady state.
 *
 * <p>Thread rule: only the sink thread uses an instance.
 */
final class PendingCommits {

    private long[] commitMicros = new long[256];
    private int count;

    /** A transaction's last event went into the open Kafka transaction. */
    void add(long commitMicros) {
        if (count == this.commitMicros.length) {
            this.commitMicros = Arrays.copyOf(this.commitMicros, count * 2);
        }
        this.commitMicros[count++] = commitMicros;
    }

    /** The Kafka transaction committed: records each one's latency, and starts over. */
    void delivered(StreamStats stats) {
        stats.delivered(commitMicros, count, nowMicros());
        count = 0;
    }

    /** The Kafka transaction was aborted: nothing of it was delivered. */
    void clear() {
        count = 0;
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }
}
