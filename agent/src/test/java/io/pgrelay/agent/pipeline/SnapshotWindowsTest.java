package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.snapshot.Chunk;
import io.pgrelay.agent.snapshot.ChunkRegistry;
import io.pgrelay.agent.snapshot.SnapshotProgress;
import io.pgrelay.agent.snapshot.SnapshotState;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class SnapshotWindowsTest {

    private static final TableId ORDERS = TableId.parse("public.orders");
    private static final TableId OTHER = TableId.parse("public.other");
    private static final Relation RELATION = new Relation(16384, "public", "orders", Relation.IDENTITY_DEFAULT,
            List.of(new Relation.Column(true, "id", 20, -1), new Relation.Column(false, "v", 25, -1)));

    private final ChunkRegistry registry = new ChunkRegistry();
    private final SnapshotProgress progress = new SnapshotProgress();
    private final SnapshotWindows windows = new SnapshotWindows(registry,
            SnapshotState.NONE.request(List.of(ORDERS)), progress, "slot");

    private static TupleData row(long id, String v) {
        return TupleData.builder().text(Long.toString(id)).text(v).build();
    }

    /** The key as the encoder would write it, enough for matching. */
    private static String key(Chunk chunk, TupleData row) {
        return "{\"id\":" + row.text(0) + "}";
    }

    private static Chunk chunk(String id, List<TupleData> rows, List<String> from, boolean last) {
        List<String> lastKey = rows.isEmpty() ? from : List.of(rows.get(rows.size() - 1).text(0));
        return new Chunk(id, ORDERS, RELATION, rows, from, null, lastKey, null, last, 1000L, null);
    }

    @Test
    void rowsChangedInsideTheWindowAreLeftToTheStream() {
        CompletableFuture<Chunk.Outcome> outcome = registry.expect("1-1", ORDERS);
        windows.low("1-1");
        assertThat(windows.watching(ORDERS)).isTrue();
        assertThat(windows.watching(OTHER)).isFalse();
        windows.changed(ORDERS, "{\"id\":2}", null);            // updated after the SELECT read it
        windows.changed(ORDERS, "{\"id\":7}", "{\"id\":3}");    // key 3 became 7
        windows.changed(OTHER, "{\"id\":1}", null);             // another table: no effect
        registry.selected(chunk("1-1", List.of(row(1, "a"), row(2, "b"), row(3, "c"), row(4, "d")), null, false));

        SnapshotWindows.Closed closed = windows.high("1-1", SnapshotWindowsTest::key);

        assertThat(closed.outcome()).isEqualTo(Chunk.Outcome.SENT);
        assertThat(closed.rows()).extracting(r -> r.text(0)).containsExactly("1", "4");
        assertThat(outcome).isNotDone();
        windows.sent(closed, closed.rows().size());
        assertThat(outcome).isCompletedWithValue(Chunk.Outcome.SENT);
        SnapshotState.TableProgress t = windows.state().table(ORDERS).orElseThrow();
        assertThat(t.lastKey()).containsExactly("4"); // the SELECT's last row, sent or not: the stream has the rest
        assertThat(t.rowsSent()).isEqualTo(2);
        assertThat(t.status()).isEqualTo(SnapshotState.Status.RUNNING);
        assertThat(windows.watching(ORDERS)).isFalse();
        assertThat(progress.state()).isEqualTo(windows.state());
    }

    @Test
    void changesBeforeTheLowWatermarkDoNotCount() {
        registry.expect("1-1", ORDERS);
        windows.changed(ORDERS, "{\"id\":1}", null);
        windows.low("1-1");
        registry.selected(chunk("1-1", List.of(row(1, "a")), null, true));
        SnapshotWindows.Closed closed = windows.high("1-1", SnapshotWindowsTest::key);
        assertThat(closed.rows()).hasSize(1);
        windows.sent(closed, 1);
        assertThat(windows.state().active()).isFalse();
    }

    @Test
    void watermarksOfAnotherLeadersChunkAreIgnored() {
        windows.low("9-1");
        assertThat(windows.watching(ORDERS)).isFalse();
        assertThat(windows.high("9-1", SnapshotWindowsTest::key)).isNull();
        assertThat(windows.state().table(ORDERS).orElseThrow().status()).isEqualTo(SnapshotState.Status.QUEUED);
    }

    @Test
    void chunkThatDoesNotContinueTheStateIsStale() {
        CompletableFuture<Chunk.Outcome> outcome = registry.expect("1-1", ORDERS);
        windows.low("1-1");
        registry.selected(chunk("1-1", List.of(row(11, "a")), List.of("10"), false)); // state has no lastKey yet
        SnapshotWindows.Closed closed = windows.high("1-1", SnapshotWindowsTest::key);
        assertThat(closed.outcome()).isEqualTo(Chunk.Outcome.STALE);
        assertThat(closed.rows()).isEmpty();
        assertThat(outcome).isCompletedWithValue(Chunk.Outcome.STALE);
    }

    @Test
    void truncateInsideTheWindowDropsTheWholeChunk() {
        registry.expect("1-1", ORDERS);
        windows.low("1-1");
        windows.truncated(ORDERS);
        registry.selected(chunk("1-1", List.of(row(1, "a"), row(2, "b")), null, false));
        SnapshotWindows.Closed closed = windows.high("1-1", SnapshotWindowsTest::key);
        assertThat(closed.outcome()).isEqualTo(Chunk.Outcome.SENT);
        assertThat(closed.rows()).isEmpty();
    }

    @Test
    void aNewLowWatermarkClosesTheWindowOfAChunkTheWorkerGaveUpOn() {
        registry.expect("1-1", ORDERS);
        windows.low("1-1");
        registry.forget("1-1");
        registry.expect("1-2", OTHER);
        windows.low("1-2");
        assertThat(windows.watching(ORDERS)).isFalse();
        assertThat(windows.watching(OTHER)).isTrue();
        assertThat(windows.high("1-1", SnapshotWindowsTest::key)).isNull();
    }

    @Test
    void requestOfATableInProgressChangesNothing() {
        assertThat(windows.request(List.of(ORDERS))).isFalse();
        assertThat(windows.request(List.of(OTHER))).isTrue();
        assertThat(windows.state().tables()).hasSize(2);
    }
}
