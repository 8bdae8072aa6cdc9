package io.pgrelay.agent.kafka;

import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.internals.KafkaFutureImpl;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

class CommitCompletionTest {

    /** The coordinator's answers, one per look-up, in order; the last one repeats. */
    private static final class Answers implements Supplier<KafkaFuture<TransactionDescription>> {
        private final ArrayDeque<KafkaFuture<TransactionDescription>> answers;
        private KafkaFuture<TransactionDescription> last;

        Answers(List<KafkaFuture<TransactionDescription>> answers) {
            this.answers = new ArrayDeque<>(answers);
        }

        @Override
        public KafkaFuture<TransactionDescription> get() {
            if (!answers.isEmpty()) {
                last = answers.poll();
            }
            return last;
        }
    }

    private static KafkaFuture<TransactionDescription> state(TransactionState state) {
        return KafkaFuture.completedFuture(new TransactionDescription(1, state, 4000L, 7, 600_000L, OptionalLong.empty(), Set.of()));
    }

    private static KafkaFuture<TransactionDescription> failed(Exception e) {
        KafkaFutureImpl<TransactionDescription> f = new KafkaFutureImpl<>();
        f.completeExceptionally(e);
        return f;
    }

    @Test
    void theNextTransactionWaitsWhileThePreviousCommitIsStillPrepared() {
        Answers coordinator = new Answers(List.of(state(TransactionState.PREPARE_COMMIT), state(TransactionState.PREPARE_COMMIT),
                state(TransactionState.COMPLETE_COMMIT)));
        CommitCompletion completion = new CommitCompletion(coordinator, "pgrelay-demo", CommitCompletion.MAX_WAIT);
        completion.committed();
        completion.await();
        assertThat(completion.lookups()).isEqualTo(3);
        assertThat(completion.waits()).isEqualTo(1);
    }

    @Test
    void aCompleteCommitLetsTheRecordsGoWithoutAnotherLookUp() {
        CommitCompletion completion = new CommitCompletion(new Answers(List.of(state(TransactionState.COMPLETE_COMMIT))), "pgrelay-demo", CommitCompletion.MAX_WAIT);
        completion.committed();
        completion.await();
        completion.await();   // the second transaction of a term has nothing to wait for until its commit
        assertThat(completion.lookups()).isEqualTo(1);
        assertThat(completion.waits()).isZero();
    }

    @Test
    void nothingIsWaitedForBeforeTheFirstCommit() {
        CommitCompletion completion = new CommitCompletion(new Answers(List.of(state(TransactionState.PREPARE_COMMIT))), "pgrelay-demo", CommitCompletion.MAX_WAIT);
        completion.await();
        assertThat(completion.lookups()).isZero();
    }

    @Test
    void aLookUpThatFailsLetsTheRecordsGo() {
        CommitCompletion completion = new CommitCompletion(new Answers(List.of(failed(new TimeoutException("no answer")))), "pgrelay-demo", CommitCompletion.MAX_WAIT);
        completion.committed();
        completion.await();
        completion.committed();
        assertThat(completion.lookups()).isEqualTo(2);   // a passing failure: the next commit asks again
    }

    @Test
    void aCommitThatNeverCompletesIsWaitedForAtMostMaxWait() {
        Duration maxWait = Duration.ofMillis(100);
        CommitCompletion completion = new CommitCompletion(new Answers(List.of(new KafkaFutureImpl<>())), "pgrelay-demo", maxWait);
        completion.committed();
        long t0 = System.nanoTime();
        completion.await();
        long waitedMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(waitedMillis).isBetween(maxWait.toMillis() - 5, maxWait.toMillis() + 1000);
        assertThat(completion.waits()).isEqualTo(1);
    }

    @Test
    void aPrincipalThatMayNotDescribeItsTransactionalIdStopsAsking() {
        CommitCompletion completion = new CommitCompletion(
                new Answers(List.of(failed(new TransactionalIdAuthorizationException("denied")))), "pgrelay-demo", CommitCompletion.MAX_WAIT);
        completion.committed();
        completion.await();
        completion.committed();
        completion.await();
        assertThat(completion.lookups()).isEqualTo(1);
    }
}
