package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.kafka.Sink;
import io.pgrelay.agent.pgoutput.Begin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * When the open Kafka transaction is committed. Between PostgreSQL transactions: when it is old or
 * big enough, or at once when the stream has gone quiet — small batches when idle keep latency
 * low, big ones under load keep throughput. Inside a PostgreSQL transaction never, unless that one
 * transaction passes {@code maxTransactionBytes} or keeps the Kafka transaction open for
 * {@code maxTransactionTime}: then it is split (logged once, counted).
 *
 * <p>Thread rule: the sink thread's, like {@link SinkLoop}.
 */
final class CommitPolicy {

    private static final Logger log = LoggerFactory.getLogger(CommitPolicy.class);

    /** What to do after a batch. */
    enum Decision { WAIT, COMMIT, SPLIT }

    private final String slot;
    private final long commitIntervalNanos;
    private final long commitMaxBytes;
    private final long maxTransactionBytes;
    private final long maxTransactionNanos;
    private final StreamStats stats;
    /** The PostgreSQL transaction split last (logged and counted once per transaction). */
    private long lastSplitXid = -1;
    /** The open Kafka transaction's bytes before the current PostgreSQL transaction (earlier whole ones). */
    private long bytesBeforeTransaction;

    CommitPolicy(String slot, Duration commitInterval, long commitMaxBytes, long maxTransactionBytes,
                 Duration maxTransactionTime, StreamStats stats) {
        this.slot = slot;
        this.commitIntervalNanos = commitInterval.toNanos();
        this.commitMaxBytes = commitMaxBytes;
        this.maxTransactionBytes = maxTransactionBytes;
        this.maxTransactionNanos = maxTransactionTime.toNanos();
        this.stats = stats;
    }

    /** A PostgreSQL transaction begins. */
    void began(Sink sink) {
        bytesBeforeTransaction = sink.inTransaction() ? sink.transactionBytes() : 0;
    }

    /** @param open the PostgreSQL transaction being read, null between transactions */
    Decision decide(Sink sink, Begin open, boolean idle) {
        if (!sink.inTransaction()) {
            return Decision.WAIT;
        }
        long age = System.nanoTime() - sink.transactionStartNanos();
        if (open != null) {
            return sink.transactionBytes() - bytesBeforeTransaction >= maxTransactionBytes || age >= maxTransactionNanos
                    ? Decision.SPLIT : Decision.WAIT;
        }
        return idle || sink.transactionBytes() >= commitMaxBytes || age >= commitIntervalNanos ? Decision.COMMIT : Decision.WAIT;
    }

    /** The transaction is about to be committed in part: logged and counted the first time. */
    void splitting(Begin open) {
        if (open.xid() != lastSplitXid) {
            lastSplitXid = open.xid();
            stats.transactionSplit();
            log.warn("slot {}: PostgreSQL transaction xid {} (commit LSN {}) is larger than kafka.maxTransactionBytes ({} bytes)"
                            + " or longer to stream than {} s: committing it to Kafka in parts, so read_committed consumers"
                            + " see it before its end", slot, open.xid(), open.finalLsn(), maxTransactionBytes,
                    maxTransactionNanos / 1_000_000_000L);
        }
        bytesBeforeTransaction = 0;
    }

    /** True when parts of this transaction are committed already (it was split). */
    boolean wasSplit(Begin open) {
        return open.xid() == lastSplitXid;
    }
}
