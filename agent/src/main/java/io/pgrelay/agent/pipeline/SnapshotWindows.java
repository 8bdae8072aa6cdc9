package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.ChangeEvent;
import io.pgrelay.agent.event.RowEncoder;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.snapshot.Chunk;
import io.pgrelay.agent.snapshot.ChunkRegistry;
import io.pgrelay.agent.snapshot.KeylessRead;
import io.pgrelay.agent.snapshot.SnapshotProgress;
import io.pgrelay.agent.snapshot.SnapshotState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The sink's side of the watermark snapshot (DBLog; Debezium's incremental snapshots). Between a
 * chunk's low and high watermark, every change of the chunk's table removes its key (old and new)
 * from the chunk: the stream's value is newer than the SELECT's, or as new. At the high watermark
 * the rest of the chunk's rows go out as snapshot events, at that point of the stream. A table
 * without a key is not chunked: it is read whole and sent at one point ({@code KeylessRead}); this
 * class moves its state too.
 *
 * <p>Also owns the {@link SnapshotState} that the checkpoint carries. Thread rule: the sink thread only.
 */
final class SnapshotWindows {

    private static final Logger log = LoggerFactory.getLogger(SnapshotWindows.class);
    private static final long PROGRESS_LOG_NANOS = 10_000_000_000L;

    private final ChunkRegistry registry;
    private final SnapshotProgress progress;
    private final String slot;
    private final Map<String, Window> open = new LinkedHashMap<>();
    private final Map<TableId, Long> startedNanos = new HashMap<>();
    private final Map<TableId, Long> startedRows = new HashMap<>();
    private long lastProgressLog = System.nanoTime();
    private SnapshotState state;

    /** Changes seen inside one chunk's window. */
    private static final class Window {
        final TableId table;
        final Set<String> touchedKeys = new HashSet<>();
        boolean truncated;

        Window(TableId table) {
            this.table = table;
        }
    }

    /** A chunk at its high watermark: the rows to send (those no change in the window touched). */
    record Closed(ChunkRegistry.Taken taken, List<TupleData> rows, Chunk.Outcome outcome) {
        Chunk chunk() {
            return taken.chunk();
        }
    }

    SnapshotWindows(ChunkRegistry registry, SnapshotState initial, SnapshotProgress progress, String slot) {
        this.registry = registry;
        this.progress = progress;
        this.slot = slot;
        this.state = initial;
        progress.publish(initial);
    }

    SnapshotState state() {
        return state;
    }

    /** True when a window of the table is open: its changes must be reported with {@link #changed}. */
    boolean watching(TableId table) {
        if (open.isEmpty()) {
            return false;
        }
        for (Window w : open.values()) {
            if (w.table.equals(table)) {
                return true;
            }
        }
        return false;
    }

    /** A low watermark: opens the chunk's window when this term registered the chunk. */
    void low(String chunkId) {
        registry.tableOf(chunkId).ifPresent(table -> {
            // The worker reads one chunk at a time: an older window still open belongs to a chunk it
            // gave up on (its high watermark will not come), and must not keep collecting keys.
            open.clear();
            open.put(chunkId, new Window(table));
        });
    }

    /**
     * A row change of a watched table; {@code key}/{@code oldKey} as the record key's JSON, null when none.
     */
    void changed(TableId table, String key, String oldKey) {
        for (Window w : open.values()) {
            if (w.table.equals(table)) {
                if (key != null) {
                    w.touchedKeys.add(key);
                }
                if (oldKey != null) {
                    w.touchedKeys.add(oldKey);
                }
            }
        }
    }

    /** A change of a watched table (see {@link #watching}): its keys, old and new, leave the chunk. */
    void changed(ChangeEvent event, RowEncoder encoder) {
        TableId table = event.relation().tableId();
        if (event.op() == Op.TRUNCATE) {
            truncated(table);
            return;
        }
        byte[] key = encoder.key(event);
        byte[] oldKey = null;
        if (event.op() == Op.UPDATE && event.before() != null) {
            oldKey = encoder.key(new ChangeEvent(Op.DELETE, event.relation(), event.before(), null, event.lsn(),
                    event.commitLsn(), event.xid(), event.seq(), event.committedAtMicros()));
        }
        changed(table, key == null ? null : new String(key, StandardCharsets.UTF_8),
                oldKey == null ? null : new String(oldKey, StandardCharsets.UTF_8));
    }

    void truncated(TableId table) {
        for (Window w : open.values()) {
            if (w.table.equals(table)) {
                w.truncated = true;
            }
        }
    }

    /**
     * A high watermark. Null when the chunk is not this term's. Otherwise the rows to send with
     * outcome {@link Chunk.Outcome#SENT} — the caller sends them and then calls {@link #sent} — or
     * no rows and the outcome already told to the worker.
     */
    Closed high(String chunkId, BiFunction<Chunk, TupleData, String> keyOf) {
        Window window = open.remove(chunkId);
        ChunkRegistry.Taken taken = registry.take(chunkId).orElse(null);
        if (taken == null) {
            return null;
        }
        if (window == null) {
            window = new Window(taken.chunk().table()); // low watermark not seen (cannot happen in one term); treat as unchanged
        }
        Chunk chunk = taken.chunk();
        SnapshotState.TableProgress table = state.table(chunk.table()).orElse(null);
        if (table == null || table.status() == SnapshotState.Status.DONE
                || !Objects.equals(table.lastKey(), chunk.fromKey()) || !Objects.equals(table.nextPage(), chunk.fromPage())) {
            taken.tell(Chunk.Outcome.STALE);
            return new Closed(taken, List.of(), Chunk.Outcome.STALE);
        }
        if (window.truncated) {
            return new Closed(taken, List.of(), Chunk.Outcome.SENT);
        }
        List<TupleData> rows = chunk.rows();
        if (!window.touchedKeys.isEmpty()) {
            rows = new ArrayList<>(rows.size());
            for (TupleData row : chunk.rows()) {
                if (!window.touchedKeys.contains(keyOf.apply(chunk, row))) {
                    rows.add(row);
                }
            }
        }
        return new Closed(taken, rows, Chunk.Outcome.SENT);
    }

    /** After the caller sent a SENT chunk's rows: the state moves on, and the worker hears of it. */
    void sent(Closed closed, long rows) {
        Chunk c = closed.chunk();
        moved(c.table(), c.lastKey(), c.nextPage(), rows, c.estimate(), c.last(), c.note());
        closed.taken().tell(Chunk.Outcome.SENT);
    }

    /** A whole-table read of a keyless table, at its low watermark; empty when it is not this term's. */
    Optional<KeylessRead> keylessRead(String id) {
        return registry.takeKeyless(id);
    }

    /**
     * A keyless table starts over at this point of the stream (its truncate goes out next); false
     * when the snapshot no longer expects it (then nothing is sent).
     */
    boolean keylessStarted(KeylessRead read) {
        SnapshotState.TableProgress table = state.table(read.table()).orElse(null);
        if (table == null || table.status() == SnapshotState.Status.DONE) {
            return false;
        }
        if (table.rowsSent() > 0) {
            log.info("slot {}: snapshot of {} starts over ({} rows were sent before): it has no key, so it is sent whole,"
                    + " after a truncate", slot, read.table(), table.rowsSent());
        }
        state = state.startedOver(read.table(), read.estimate());
        startedNanos.put(read.table(), System.nanoTime());
        startedRows.put(read.table(), 0L);
        log.info("slot {}: snapshot of {} started (about {} rows), whole, at one consistent point", slot, read.table(),
                read.estimate() == null ? "an unknown number of" : read.estimate());
        progress.publish(state);
        return true;
    }

    /** Rows of a keyless table's whole read went out; {@code last}: it is complete. */
    void keylessSent(KeylessRead read, long rows, boolean last) {
        moved(read.table(), null, null, rows, read.estimate(), last, null);
    }

    private void moved(TableId table, List<String> lastKey, Long nextPage, long rows, Long estimate, boolean last, String note) {
        SnapshotState.TableProgress before = state.table(table).orElseThrow();
        if (before.status() == SnapshotState.Status.QUEUED || !startedNanos.containsKey(table)) {
            startedNanos.put(table, System.nanoTime());
            startedRows.put(table, before.rowsSent());
            if (before.rowsSent() == 0) {
                log.info("slot {}: snapshot of {} started (about {} rows)", slot, table,
                        estimate == null ? "an unknown number of" : estimate);
            } else {
                log.info("slot {}: snapshot of {} resumed after {} rows sent", slot, table, before.rowsSent());
            }
        }
        state = state.advance(table, lastKey, nextPage, rows, estimate, last, note);
        progress.publish(state);
        progress.sent(table.toString(), rows);
        SnapshotState.TableProgress after = state.table(table).orElseThrow();
        long now = System.nanoTime();
        if (last) {
            long nanos = now - startedNanos.getOrDefault(table, now);
            long thisTerm = after.rowsSent() - startedRows.getOrDefault(table, 0L);
            if (note != null) {
                log.warn("slot {}: snapshot of {} ended: {}", slot, table, note);
            } else {
                log.info("slot {}: snapshot of {} done: {} rows ({} by this leader in {} ms, {} rows/s)", slot, table,
                        after.rowsSent(), thisTerm, nanos / 1_000_000, nanos == 0 ? 0 : thisTerm * 1_000_000_000L / nanos);
            }
            if (!state.active()) {
                log.info("slot {}: snapshot complete", slot);
            }
        } else if (now - lastProgressLog > PROGRESS_LOG_NANOS) {
            lastProgressLog = now;
            log.info("slot {}: snapshot of {}: {} rows sent{}", slot, table, after.rowsSent(),
                    after.estimate() == null || after.estimate() <= 0 ? ""
                            : " of about " + after.estimate() + " (" + Math.min(100, after.rowsSent() * 100 / after.estimate()) + " %)");
        }
    }

    /** A snapshot request read from the stream; true when it changed the state. */
    boolean request(List<TableId> tables) {
        SnapshotState next = state.request(tables);
        if (next.equals(state)) {
            return false;
        }
        log.info("slot {}: snapshot requested of {}", slot, tables);
        state = next;
        progress.publish(state);
        return true;
    }
}
