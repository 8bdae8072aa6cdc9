package io.pgrelay.agent.checkpoint;

import io.pgrelay.agent.core.Lsn;
import java.util.Set;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.snapshot.SnapshotState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CheckpointTest {

    @Test
    void recordOfAnOlderVersionWithoutSnapshotStillParses() {
        Checkpoint c = Checkpoint.fromJson("{\"commitLsn\":\"0/1A2B400\",\"seq\":3,\"epoch\":7,\"agent\":\"agent-1\"}"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(c.position()).isEqualTo(new Position(Lsn.parse("0/1A2B400"), 3));
        assertThat(c.epoch()).isEqualTo(7);
        assertThat(c.snapshot()).isEqualTo(SnapshotState.NONE);
    }

    @Test
    void snapshotInProgressRoundTrips() {
        SnapshotState state = SnapshotState.NONE.request(List.of(TableId.parse("public.orders"), TableId.parse("\"Odd\"\".S\".\"T 1\"")))
                .advance(TableId.parse("public.orders"), List.of("42", "it's"), null, 2048, 500_000L, false, null);
        Checkpoint c = new Checkpoint(new Position(Lsn.parse("16/3002D50"), 0), 2, "agent-2", state);
        Checkpoint back = Checkpoint.fromJson(c.toJson());
        assertThat(back).isEqualTo(c);
        assertThat(back.snapshot().current().orElseThrow().lastKey()).containsExactly("42", "it's");
        assertThat(back.snapshot().tables().get(1).table()).isEqualTo(new TableId("Odd\".S", "T 1"));
    }

    @Test
    void flushedPositionAndOriginRoundTrip() {
        SlotOrigin origin = new SlotOrigin(Lsn.parse("0/1500000"), "750:752:750");
        Checkpoint c = new Checkpoint(new Position(Lsn.parse("0/1579D48"), 11), 4, "agent-3", Lsn.parse("0/1579E00"), origin,
                SnapshotState.NONE);
        Checkpoint back = Checkpoint.fromJson(c.toJson());
        assertThat(back).isEqualTo(c);
        assertThat(back.streamed()).isTrue();
        assertThat(new Checkpoint(Position.NONE, 0, "a", Lsn.parse("0/1500000"), origin, SnapshotState.NONE).streamed())
                .as("a record written when the slot was created, before any event").isFalse();
        assertThat(Checkpoint.fromJson("{\"commitLsn\":\"0/10\",\"seq\":1}".getBytes(StandardCharsets.UTF_8)).flushed().isZero())
                .as("a record of an older version: flushed not known").isTrue();
    }

    @Test
    void finishedSnapshotIsNotWritten() {
        SnapshotState done = SnapshotState.NONE.request(List.of(TableId.parse("public.t")))
                .advance(TableId.parse("public.t"), null, 10L, 5, null, true, null);
        String json = new String(new Checkpoint(new Position(Lsn.parse("0/10"), 1), 1, "a", done).toJson(), StandardCharsets.UTF_8);
        assertThat(json).doesNotContain("snapshot");
        assertThat(Checkpoint.fromJson(json.getBytes(StandardCharsets.UTF_8)).snapshot().active()).isFalse();
    }

    @Test
    void repeatedRequestDoesNotRestartATableInProgressButRequeuesOneDone() {
        TableId a = TableId.parse("a");
        TableId b = TableId.parse("b");
        SnapshotState s = SnapshotState.NONE.request(List.of(a, b))
                .advance(a, List.of("9"), null, 10, null, false, null);
        assertThat(s.request(List.of(a))).isEqualTo(s);
        SnapshotState aDone = s.advance(a, List.of("20"), null, 3, null, true, null);
        SnapshotState again = aDone.request(List.of(a));
        assertThat(again.tables()).extracting(SnapshotState.TableProgress::table).containsExactly(b, a);
        assertThat(again.table(a).orElseThrow().rowsSent()).isZero();
        assertThat(again.current().orElseThrow().table()).isEqualTo(b);
    }
}
