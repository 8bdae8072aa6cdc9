package io.pgrelay.agent.snapshot;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the agent shows of snapshots ({@code /status}, metrics): the state as this agent's sink last
 * saw it, and the rows this agent sent per table. Lives as long as the agent, across terms.
 *
 * <p>Thread rule: the sink thread writes; HTTP and metrics threads read.
 */
public final class SnapshotProgress {

    private volatile SnapshotState state = SnapshotState.NONE;
    private final Map<String, AtomicLong> rowsSent = new ConcurrentHashMap<>();

    public SnapshotState state() {
        return state;
    }

    public void publish(SnapshotState state) {
        this.state = state;
    }

    /** Counts rows this agent sent (they count once they are in a Kafka transaction, committed or not). */
    public void sent(String table, long rows) {
        rowsSent.computeIfAbsent(table, t -> new AtomicLong()).addAndGet(rows);
    }

    /** Per table ({@code schema.table}): snapshot rows this agent has sent. */
    public Map<String, AtomicLong> rowsSent() {
        return rowsSent;
    }

    /** The estimate of a table's rows in the current state, or NaN. */
    public double estimate(String table) {
        return state.tables().stream().filter(t -> t.table().toString().equals(table) && t.estimate() != null)
                .mapToDouble(t -> t.estimate()).findFirst().orElse(Double.NaN);
    }
}
