package io.pgrelay.agent.slot;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.postgres.SlotState;
import io.pgrelay.agent.snapshot.SnapshotState;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SlotCheckTest {

    private static final Position STREAMED = new Position(Lsn.parse("0/1579D48"), 11);

    private static Optional<Checkpoint> checkpoint(Position at, String flushed) {
        return Optional.of(new Checkpoint(at, 3, "agent-1", flushed == null ? Lsn.ZERO : Lsn.parse(flushed), null,
                SnapshotState.NONE));
    }

    private static Optional<SlotState> slot(String confirmed, String walStatus) {
        return Optional.of(new SlotState("s", "pgoutput", "logical", "app", false, null, Lsn.parse(confirmed),
                Lsn.parse(confirmed), walStatus, 0L));
    }

    @Test
    void aNewClusterCreatesAMissingSlotAndStreamsAnExistingOne() {
        assertThat(SlotCheck.judge("s", Optional.empty(), Optional.empty()).create()).isTrue();
        assertThat(SlotCheck.judge("s", checkpoint(Position.NONE, "0/1500000"), Optional.empty()).create()).isTrue();
        SlotCheck.Verdict v = SlotCheck.judge("s", Optional.empty(), slot("0/1600000", "reserved"));
        assertThat(v.refuses()).isFalse();
        assertThat(v.create()).isFalse();
    }

    @Test
    void aMissingSlotIsRefusedOnceTheClusterStreamed() {
        SlotCheck.Verdict v = SlotCheck.judge("s", checkpoint(STREAMED, "0/1579E00"), Optional.empty());
        assertThat(v.problem()).isEqualTo(SlotCheck.Problem.MISSING);
        assertThat(v.create()).isFalse();
        assertThat(v.message()).contains("slot s", "missing", "0/1579D48#11", "when_needed", "init --config FILE --resnapshot");
    }

    @Test
    void aSlotCreatedAnewUnderTheSameNameIsRefused() {
        SlotCheck.Verdict v = SlotCheck.judge("s", checkpoint(STREAMED, "0/1579E00"), slot("0/15920F0", "reserved"));
        assertThat(v.problem()).isEqualTo(SlotCheck.Problem.RECREATED);
        assertThat(v.message()).contains("missing", "0/15920F0", "0/1579E00");
    }

    @Test
    void theClustersOwnSlotStreamsWhereverItWasConfirmedUpTo() {
        assertThat(SlotCheck.judge("s", checkpoint(STREAMED, "0/1579E00"), slot("0/1579E00", "reserved")).refuses()).isFalse();
        assertThat(SlotCheck.judge("s", checkpoint(STREAMED, "0/1579E00"), slot("0/1579D00", "extended")).refuses()).isFalse();
        // a record of an older version has no flushed position: nothing to tell a new slot by
        assertThat(SlotCheck.judge("s", checkpoint(STREAMED, null), slot("0/9000000", "reserved")).refuses()).isFalse();
    }

    @Test
    void aLostSlotIsRefusedEvenInANewCluster() {
        assertThat(SlotCheck.judge("s", checkpoint(STREAMED, "0/1579E00"), slot("0/1579E00", "lost")).problem())
                .isEqualTo(SlotCheck.Problem.LOST);
        SlotCheck.Verdict v = SlotCheck.judge("s", Optional.empty(), slot("0/1579E00", "lost"));
        assertThat(v.problem()).isEqualTo(SlotCheck.Problem.LOST);
        assertThat(v.message()).contains("lost", "slot s");
    }
}
