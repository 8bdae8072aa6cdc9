package io.pgrelay.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthFailuresTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AuthFailures failures = new AuthFailures(nanos::get);

    @Test
    void anAddressIsBlockedAfterTenFailuresUntilItsWindowEnds() {
        for (int i = 0; i < AuthFailures.LIMIT - 1; i++) {
            failures.failed("10.0.0.1");
        }
        assertThat(failures.blockedForSeconds("10.0.0.1")).isZero();
        failures.failed("10.0.0.1");
        assertThat(failures.blockedForSeconds("10.0.0.1")).isEqualTo(10);
        assertThat(failures.blockedForSeconds("10.0.0.2")).as("another address").isZero();
        nanos.addAndGet(9_500_000_000L);
        assertThat(failures.blockedForSeconds("10.0.0.1")).isEqualTo(1);
        nanos.addAndGet(600_000_000L);
        assertThat(failures.blockedForSeconds("10.0.0.1")).isZero();
    }

    @Test
    void failuresCountAfreshOnceTheirWindowEnded() {
        for (int i = 0; i < AuthFailures.LIMIT - 1; i++) {
            failures.failed("10.0.0.1");
        }
        nanos.addAndGet(AuthFailures.WINDOW.toNanos() + 1);
        for (int i = 0; i < AuthFailures.LIMIT - 1; i++) {
            failures.failed("10.0.0.1");
        }
        assertThat(failures.blockedForSeconds("10.0.0.1")).isZero();
        failures.failed("10.0.0.1");
        assertThat(failures.blockedForSeconds("10.0.0.1")).isEqualTo(10);
    }
}
