package io.pgrelay.agent.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.KafkaFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Holds a transaction's first records back until the coordinator has completed the previous commit.
 *
 * <p>Why: {@code commitTransaction()} returns once the coordinator has logged PrepareCommit; it then
 * writes the commit markers and logs CompleteCommit. Under transactions v2 (Kafka 4's default) the
 * next transaction's first produce to a partition makes the partition leader ask the coordinator to
 * add that partition, and while the previous commit is not complete the coordinator answers
 * {@code CONCURRENT_TRANSACTIONS}; the broker then retries after
 * {@code add.partitions.to.txn.retry.backoff.ms} (20 ms by default), and every record behind that
 * produce waits with it. A producer that begins its next transaction right after a commit — pgrelay
 * at a steady rate — met it on about one commit in ten. Asking the coordinator (DescribeTransactions)
 * whether the commit is complete, and sending only then, costs a round trip or two instead.
 *
 * <p>Only a wait: a look-up that fails, or a commit not complete within {@link #MAX_WAIT}, lets the
 * records go (the broker's retry takes over, as without this). {@link #MAX_WAIT} is long because a
 * record sent while the commit is still prepared gains nothing: the broker holds it and, after
 * {@code add.partitions.to.txn.retry.backoff.max.ms} (100 ms by default), answers the producer
 * {@code CONCURRENT_TRANSACTIONS}, which then retries it behind its next batches for the partition,
 * rejected with {@code OUT_OF_ORDER_SEQUENCE_NUMBER} until it lands (logged at WARN and, on the
 * broker, at ERROR; nothing lost or duplicated) — what a cold or busy broker's slow markers did.
 * A principal that may not describe its own transactional id (WRITE implies DESCRIBE, so only an
 * odd ACL) turns the wait off for this sink.
 *
 * <p>Thread rule: the sink thread's, like {@link KafkaSink}; the look-ups complete on the admin
 * client's thread, and only their futures cross.
 */
final class CommitCompletion {

    private static final Logger log = LoggerFactory.getLogger(CommitCompletion.class);
    /** The longest a transaction's first records wait for the previous commit to complete. */
    static final Duration MAX_WAIT = Duration.ofSeconds(2);

    private final Supplier<KafkaFuture<TransactionDescription>> describe;
    private final String transactionalId;
    private final long maxWaitNanos;
    private KafkaFuture<TransactionDescription> lookup;
    private boolean off;
    private long waits;
    private long lookups;

    CommitCompletion(Admin admin, String transactionalId) {
        this(() -> admin.describeTransactions(Set.of(transactionalId),
                new DescribeTransactionsOptions().timeoutMs((int) MAX_WAIT.toMillis())).description(transactionalId),
                transactionalId, MAX_WAIT);
    }

    /** @param describe one DescribeTransactions look-up of {@code transactionalId} */
    CommitCompletion(Supplier<KafkaFuture<TransactionDescription>> describe, String transactionalId, Duration maxWait) {
        this.describe = describe;
        this.transactionalId = transactionalId;
        this.maxWaitNanos = maxWait.toNanos();
    }

    /** A commit returned: asks at once whether the coordinator completed it, so the answer is likely in by the next transaction. */
    void committed() {
        if (!off) {
            lookup = describe();
        }
    }

    /** Before a transaction's first record: waits (at most {@link #MAX_WAIT}) until the previous commit is complete. */
    void await() {
        KafkaFuture<TransactionDescription> pending = lookup;
        lookup = null;
        if (pending == null) {
            return;
        }
        long deadline = System.nanoTime() + maxWaitNanos;
        boolean waited = false;
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                waited |= !pending.isDone();
                TransactionState state = pending.get(left, TimeUnit.NANOSECONDS).state();
                if (state != TransactionState.PREPARE_COMMIT && state != TransactionState.PREPARE_ABORT) {
                    return;
                }
                waited = true;
                pending = describe();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TransactionalIdAuthorizationException) {
                off = true;
                log.info("kafka: may not describe transactional id {} ({}): a transaction's first records no longer wait for the"
                        + " previous commit to complete, and may wait add.partitions.to.txn.retry.backoff.ms on the broker instead",
                        transactionalId, e.getCause().getMessage());
            }
        } catch (TimeoutException e) {
            // the broker's retry takes over
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (waited) {
                waits++;
            }
        }
    }

    private KafkaFuture<TransactionDescription> describe() {
        lookups++;
        return describe.get();
    }

    /** Transactions whose first records waited for the previous commit to complete. */
    long waits() {
        return waits;
    }

    /** Look-ups sent (DescribeTransactions). */
    long lookups() {
        return lookups;
    }
}
