package io.pgrelay.sandbox.demo;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@code read_committed} consumer has read of a {@link LoadGenerator} table so far, one event
 * at a time: which versions of each row, which twice, which after a later version of the same row.
 * Holds a bit per row version, not the records, so that a drill can feed it for hours.
 * Not thread-safe: one reader feeds it.
 */
public final class VersionLedger {

    private final Map<Long, BitSet> seen = new HashMap<>();
    private final Map<Long, Integer> lastSeen = new HashMap<>();
    /** (id, version) of every duplicate read; none in a clean run. */
    private final List<long[]> duplicates = new ArrayList<>();
    private long events;
    private long outOfOrder;

    /** What one event was. */
    public enum Outcome { IGNORED, NEW, DUPLICATE, OUT_OF_ORDER }

    /**
     * Takes one event (a record's JSON value): inserts and updates count, other ops are ignored.
     * A duplicate that is also behind the row's last version is a {@code DUPLICATE} (counted as both).
     */
    public Outcome accept(JsonNode event) {
        String op = event.path("op").asText();
        if (!op.equals("insert") && !op.equals("update")) {
            return Outcome.IGNORED;
        }
        long id = event.path("after").path("id").asLong();
        int version = event.path("after").path("version").asInt();
        events++;
        BitSet had = seen.computeIfAbsent(id, k -> new BitSet());
        boolean duplicate = had.get(version);
        if (duplicate) {
            duplicates.add(new long[] {id, version});
        } else {
            had.set(version);
        }
        Integer last = lastSeen.put(id, version);
        boolean behind = last != null && last >= version;
        if (behind) {
            outOfOrder++;
        }
        return duplicate ? Outcome.DUPLICATE : behind ? Outcome.OUT_OF_ORDER : Outcome.NEW;
    }

    /** The row versions of {@code versions} not read, as {@code {id, version}}, by id then version; at most {@code limit}. */
    public List<long[]> missing(Map<Long, Integer> versions, int limit) {
        List<long[]> missing = new ArrayList<>();
        for (Map.Entry<Long, Integer> e : new java.util.TreeMap<>(versions).entrySet()) {
            BitSet had = seen.getOrDefault(e.getKey(), new BitSet());
            for (int v = had.nextClearBit(0); v <= e.getValue() && missing.size() < limit; v = had.nextClearBit(v + 1)) {
                missing.add(new long[] {e.getKey(), v});
            }
        }
        return missing;
    }

    /** Insert and update events read so far, duplicates included. */
    public long events() {
        return events;
    }

    /**
     * The verdict against {@code versions}, the table's row versions at some moment: with
     * {@code finalState} the table no longer changes and every event read counts as found, else only
     * those up to {@code versions} (versions written after the look still count for duplicates and order).
     */
    public Verdict verdict(Map<Long, Integer> versions, boolean finalState) {
        long found = 0;
        long missing = 0;
        if (finalState) {
            found = events;
        } else {
            for (Map.Entry<Long, BitSet> e : seen.entrySet()) {
                Integer looked = versions.get(e.getKey());
                if (looked != null) {
                    found += e.getValue().get(0, looked + 1).cardinality();
                }
            }
            for (long[] d : duplicates) {
                Integer looked = versions.get(d[0]);
                if (looked != null && d[1] <= looked) {
                    found++;
                }
            }
        }
        for (Map.Entry<Long, Integer> e : versions.entrySet()) {
            BitSet had = seen.get(e.getKey());
            int have = had == null ? 0 : had.get(0, e.getValue() + 1).cardinality();
            missing += (e.getValue() + 1) - have;
        }
        return new Verdict(Verdict.expectedEvents(versions), found, missing, duplicates.size(), outOfOrder);
    }
}
