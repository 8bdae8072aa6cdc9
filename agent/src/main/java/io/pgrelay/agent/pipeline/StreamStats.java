package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.event.Op;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of what the pipeline did: events per table and op, transactions, bytes, Kafka commits.
 * Written by the sink thread, read by anyone (the HTTP server, metrics).
 */
public final class StreamStats {

    private final Map<String, TableCounters> tables = new ConcurrentHashMap<>();
    private final LongAdder transactions = new LongAdder();
    private final LongAdder transactionsSplit = new LongAdder();
    private final LongAdder kafkaCommits = new LongAdder();
    private final LongAdder kafkaCommitNanos = new LongAdder();
    private final LongAdder skippedAlreadyWritten = new LongAdder();
    private final LongAdder skippedOversized = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final io.pgrelay.agent.snapshot.SnapshotProgress snapshot = new io.pgrelay.agent.snapshot.SnapshotProgress();

    /** The snapshot as this agent last saw it, and the rows it sent. */
    public io.pgrelay.agent.snapshot.SnapshotProgress snapshot() {
        return snapshot;
    }
    private volatile long lastCommitMicros;
    private volatile Timings timings = Timings.NONE;

    /** Receives durations as they happen (the metrics' histograms); called on the sink thread. */
    public interface Timings {
        Timings NONE = new Timings() {
            @Override
            public void kafkaCommit(long nanos) {
            }

            @Override
            public void endToEnd(long micros) {
            }
        };

        /** How long one Kafka transaction commit (flush of its records, checkpoint, commit) took. */
        void kafkaCommit(long nanos);

        /** From one PostgreSQL transaction's commit to the Kafka commit acknowledging its events. */
        void endToEnd(long micros);
    }

    public void timings(Timings timings) {
        this.timings = timings;
    }

    /** Per-table counters, one slot per {@link Op}. */
    public static final class TableCounters {
        private final AtomicLongArray events = new AtomicLongArray(Op.values().length);
        private final LongAdder bytes = new LongAdder();

        public long events(Op op) {
            return events.get(op.ordinal());
        }

        public long bytes() {
            return bytes.sum();
        }
    }

    public TableCounters table(String table) {
        return tables.computeIfAbsent(table, t -> new TableCounters());
    }

    void event(TableCounters counters, Op op, int valueBytes, long commitMicros) {
        counters.events.incrementAndGet(op.ordinal());
        counters.bytes.add(valueBytes);
        lastCommitMicros = commitMicros;
    }

    void transactionCommitted() {
        transactions.increment();
    }

    void transactionSplit() {
        transactionsSplit.increment();
    }

    /** PostgreSQL transactions committed to Kafka in more than one Kafka transaction (kafka.maxTransactionBytes or time). */
    public long transactionsSplit() {
        return transactionsSplit.sum();
    }

    void kafkaCommitted(long records, long nanos) {
        kafkaCommits.increment();
        kafkaCommitNanos.add(nanos);
        timings.kafkaCommit(nanos);
    }

    /** The first {@code count} commit times were acknowledged by Kafka at {@code nowMicros}. */
    void delivered(long[] commitMicros, int count, long nowMicros) {
        Timings t = timings;
        for (int i = 0; i < count; i++) {
            t.endToEnd(Math.max(0, nowMicros - commitMicros[i]));
        }
    }

    void countSkippedAlreadyWritten() {
        skippedAlreadyWritten.increment();
    }

    void countSkippedOversized() {
        skippedOversized.increment();
    }

    public void error() {
        errors.increment();
    }

    public Map<String, TableCounters> tables() {
        return new TreeMap<>(tables);
    }

    public long transactions() {
        return transactions.sum();
    }

    public long kafkaCommits() {
        return kafkaCommits.sum();
    }

    public long skippedAlreadyWritten() {
        return skippedAlreadyWritten.sum();
    }

    public long skippedOversized() {
        return skippedOversized.sum();
    }

    public long errors() {
        return errors.sum();
    }

    /** PostgreSQL commit time (microseconds since the Unix epoch) of the last event written, 0 before any. */
    public long lastCommitMicros() {
        return lastCommitMicros;
    }

    public long events() {
        long sum = 0;
        for (TableCounters t : tables.values()) {
            for (int i = 0; i < t.events.length(); i++) {
                sum += t.events.get(i);
            }
        }
        return sum;
    }
}
