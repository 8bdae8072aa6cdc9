package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.TableId;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chunks of this leadership term, between the snapshot worker (which registers them) and the sink
 * (which meets their watermarks in the stream). A watermark whose chunk is not here — a former
 * leader's — is ignored.
 *
 * <p>Thread rule: the worker calls {@link #expect} and {@link #selected}; the sink calls the rest.
 */
public final class ChunkRegistry {

    private record Entry(TableId table, CompletableFuture<Chunk.Outcome> outcome, Chunk chunk) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Map<String, KeylessRead> keyless = new ConcurrentHashMap<>();

    /** Before the low watermark of a whole-table read of a keyless table. */
    public void expect(KeylessRead read) {
        keyless.put(read.id(), read);
    }

    /** At a low watermark: the keyless read of this term it opens, removed from the registry; empty when none. */
    public Optional<KeylessRead> takeKeyless(String id) {
        return Optional.ofNullable(keyless.remove(id));
    }

    /** Before the low watermark: the sink will know the chunk's id and table. Returns the outcome to wait for. */
    public CompletableFuture<Chunk.Outcome> expect(String id, TableId table) {
        CompletableFuture<Chunk.Outcome> outcome = new CompletableFuture<>();
        entries.put(id, new Entry(table, outcome, null));
        return outcome;
    }

    /** After the SELECT, before the high watermark. */
    public void selected(Chunk chunk) {
        entries.computeIfPresent(chunk.id(), (id, e) -> new Entry(e.table(), e.outcome(), chunk));
    }

    /** Drops a chunk the worker gave up on (its watermark may still come; it is then ignored). */
    public void forget(String id) {
        Entry e = entries.remove(id);
        if (e != null) {
            e.outcome().complete(Chunk.Outcome.STALE);
        }
    }

    /** The table of a chunk this term registered, if it is one. */
    public Optional<TableId> tableOf(String id) {
        Entry e = entries.get(id);
        return e == null ? Optional.empty() : Optional.of(e.table());
    }

    /** A chunk met at its high watermark, with the outcome its worker waits for. */
    public record Taken(Chunk chunk, CompletableFuture<Chunk.Outcome> outcome) {
        public void tell(Chunk.Outcome result) {
            outcome.complete(result);
        }
    }

    /** At the high watermark: the chunk, removed from the registry; empty when unknown or never selected. */
    public Optional<Taken> take(String id) {
        Entry e = entries.get(id);
        if (e == null || e.chunk() == null) {
            return Optional.empty();
        }
        entries.remove(id);
        return Optional.of(new Taken(e.chunk(), e.outcome()));
    }

    /** Ends the term: every waiting worker hears STALE. */
    public void clear() {
        entries.values().forEach(e -> e.outcome().complete(Chunk.Outcome.STALE));
        entries.clear();
        keyless.values().forEach(KeylessRead::abandon);
        keyless.clear();
    }
}
