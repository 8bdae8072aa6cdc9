package io.pgrelay.coordination;

import io.pgrelay.coordination.HangDetector.SlotObservation;
import io.pgrelay.coordination.HangDetector.Verdict;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class HangDetectorTest {

    private static final long MS = 1_000_000;
    private final HangDetector detector = new HangDetector(Duration.ofSeconds(5));

    private static SlotObservation held(int pid, String marker) {
        return new SlotObservation(true, true, pid, marker);
    }

    @Test
    void missingSlotIsMissingAndFreeSlotIsFree() {
        assertThat(detector.judge(new SlotObservation(false, false, null, null), 0)).isEqualTo(Verdict.MISSING);
        assertThat(detector.judge(new SlotObservation(true, false, null, null), 0)).isEqualTo(Verdict.FREE);
    }

    @Test
    void aWalsenderWhoseReplyTimeKeepsMovingIsNeverHung() {
        for (int i = 0; i < 100; i++) {
            assertThat(detector.judge(held(42, "t" + i), i * 1000 * MS)).isEqualTo(Verdict.HELD);
        }
    }

    @Test
    void aWalsenderWhoseReplyTimeStandsStillForHangTimeoutIsHung() {
        assertThat(detector.judge(held(42, "t1"), 0)).isEqualTo(Verdict.HELD);
        assertThat(detector.judge(held(42, "t1"), 4_999 * MS)).isEqualTo(Verdict.HELD);
        assertThat(detector.judge(held(42, "t1"), 5_000 * MS)).isEqualTo(Verdict.HUNG);
        assertThat(detector.silentFor(5_000 * MS)).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void aStandbyThatJustStartedWatchingWaitsAFullHangTimeoutWhateverTheReplyTimeSays() {
        // the marker may be hours old by the server's clock: it is the client's clock, so it is not trusted
        assertThat(detector.judge(held(42, "2000-01-01 00:00:00+00"), 1_000_000 * MS)).isEqualTo(Verdict.HELD);
        assertThat(detector.judge(held(42, "2000-01-01 00:00:00+00"), 1_004_000 * MS)).isEqualTo(Verdict.HELD);
    }

    @Test
    void aNewWalsenderPidRestartsTheClockEvenWithTheSameMarker() {
        detector.judge(held(42, "t1"), 0);
        assertThat(detector.judge(held(43, "t1"), 6_000 * MS)).isEqualTo(Verdict.HELD);
        assertThat(detector.judge(held(43, "t1"), 11_000 * MS)).isEqualTo(Verdict.HUNG);
    }

    @Test
    void noPgStatReplicationRowMeansWeCannotTellSoNeverHung() {
        detector.judge(held(42, null), 0);
        assertThat(detector.judge(held(42, null), 60_000 * MS)).isEqualTo(Verdict.HELD);
    }

    @Test
    void aSlotThatWasFreedInBetweenForgetsTheOldWalsender() {
        detector.judge(held(42, "t1"), 0);
        detector.judge(new SlotObservation(true, false, null, null), 1_000 * MS);
        assertThat(detector.judge(held(42, "t1"), 6_000 * MS)).isEqualTo(Verdict.HELD);
    }
}
