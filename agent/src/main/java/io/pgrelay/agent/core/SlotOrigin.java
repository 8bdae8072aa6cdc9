package io.pgrelay.agent.core;

import java.util.Objects;

/**
 * Where the stream of the cluster's current slot begins: the slot's consistent point, and the
 * snapshot PostgreSQL exported when it created the slot, as {@code pg_current_snapshot()} text
 * ({@code xmin:xmax:xip,…}). A transaction visible in that snapshot committed before the slot's
 * first change, so the stream never carries it; every other committed transaction the stream does
 * carry. That split is what lets a snapshot of a table without a key send each row exactly once
 * (see {@code SnapshotWorker}).
 *
 * @param consistentPoint the slot's first position: changes committed after it are streamed
 * @param snapshot        the exported snapshot as text, never blank
 */
public record SlotOrigin(Lsn consistentPoint, String snapshot) {

    public SlotOrigin {
        Objects.requireNonNull(consistentPoint, "consistentPoint");
        if (snapshot == null || !snapshot.matches("\\d+:\\d+:[\\d,]*")) {
            throw new IllegalArgumentException("not a pg_snapshot: " + snapshot);
        }
    }

    @Override
    public String toString() {
        return consistentPoint + " (snapshot " + snapshot + ")";
    }
}
