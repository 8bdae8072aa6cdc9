package io.pgrelay.coordination;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class SlotLeaseTest {

    private static final long S = 1_000_000_000L;

    @Test
    void expiresOnlyAfterTheTimeoutWithoutAConfirmation() {
        SlotLease lease = new SlotLease(Duration.ofSeconds(5), 100 * S);
        assertThat(lease.expired(104 * S)).isFalse();
        assertThat(lease.expired(105 * S)).isTrue();
        assertThat(lease.unconfirmedFor(106 * S)).isEqualTo(Duration.ofSeconds(6));
    }

    @Test
    void aConfirmationStartsTheTimeoutAgain() {
        SlotLease lease = new SlotLease(Duration.ofSeconds(5), 100 * S);
        lease.confirm(103 * S);
        assertThat(lease.expired(107 * S)).isFalse();
        assertThat(lease.expired(108 * S)).isTrue();
    }

    @Test
    void aLookThatStartedBeforeTheLastConfirmationMovesNothing() {
        // a query held up by a partition that answers late: it started long ago
        SlotLease lease = new SlotLease(Duration.ofSeconds(5), 100 * S);
        lease.confirm(103 * S);
        lease.confirm(101 * S);
        assertThat(lease.unconfirmedFor(104 * S)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void worksAcrossTheNanoTimeSignChange() {
        long start = Long.MAX_VALUE - 2 * S;
        SlotLease lease = new SlotLease(Duration.ofSeconds(5), start);
        lease.confirm(start + 3 * S);   // overflows to negative
        assertThat(lease.expired(start + 7 * S)).isFalse();
        assertThat(lease.expired(start + 8 * S)).isTrue();
    }
}
