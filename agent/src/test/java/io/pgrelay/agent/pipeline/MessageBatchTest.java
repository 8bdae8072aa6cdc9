package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.pgoutput.Commit;
import io.pgrelay.agent.pgoutput.PgMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MessageBatchTest {

    private static final PgMessage M = new Commit(0, Lsn.of(1), Lsn.of(2), 0);

    @Test
    void isFullAtItsCapacityInMessages() {
        MessageBatch b = new MessageBatch(3);
        assertThat(b.add(M, 1, 10)).isFalse();
        assertThat(b.add(M, 2, 10)).isFalse();
        assertThat(b.add(M, 3, 10)).isTrue();
    }

    @Test
    void isFullOnceItHoldsMaxBytesHoweverFewTheMessages() {
        MessageBatch b = new MessageBatch(512);
        assertThat(b.add(M, 1, MessageBatch.MAX_BYTES / 2)).isFalse();
        assertThat(b.add(M, 2, MessageBatch.MAX_BYTES / 2)).isTrue();
        MessageBatch wide = new MessageBatch(512);
        assertThat(wide.add(M, 1, 10 * MessageBatch.MAX_BYTES)).as("one row wider than a batch").isTrue();
    }
}
