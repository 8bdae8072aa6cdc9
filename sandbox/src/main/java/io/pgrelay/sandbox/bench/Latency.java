package io.pgrelay.sandbox.bench;

import org.HdrHistogram.Histogram;

/**
 * End-to-end latency of the steady workload, in microseconds from the PostgreSQL commit: (a) to
 * the Kafka record's log-append time (the broker's clock, in milliseconds), (b) to the moment a
 * {@code read_committed} consumer received the record.
 *
 * @param records     records whose latency was recorded (those committed after the warm-up)
 * @param toLogAppend commit → the broker appended the record
 * @param toConsumer  commit → a read_committed consumer had it
 */
record Latency(long records, Percentiles toLogAppend, Percentiles toConsumer) {

    /** p50/p95/p99/max in microseconds. */
    record Percentiles(long p50, long p95, long p99, long max) {

        static Percentiles of(Histogram h) {
            return new Percentiles(h.getValueAtPercentile(50), h.getValueAtPercentile(95), h.getValueAtPercentile(99), h.getMaxValue());
        }

        /** e.g. {@code 4.1 / 9.8 / 15.2 / 40.0} ms. */
        String millis() {
            return String.format(java.util.Locale.ROOT, "%.1f / %.1f / %.1f / %.1f", p50 / 1e3, p95 / 1e3, p99 / 1e3, max / 1e3);
        }
    }
}
