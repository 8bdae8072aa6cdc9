package io.pgrelay.agent.core;

/**
 * Where an event stands in the change stream: the LSN of its transaction's commit record and its
 * index within that transaction. Positions only grow, across transactions and restarts, so a new
 * leader skips every event at or before the last position checkpointed in Kafka.
 */
public record Position(Lsn commitLsn, long seq) implements Comparable<Position> {

    public static final Position NONE = new Position(Lsn.ZERO, -1);

    @Override
    public int compareTo(Position other) {
        int c = commitLsn.compareTo(other.commitLsn);
        return c != 0 ? c : Long.compare(seq, other.seq);
    }

    /**
     * True when this position (a checkpoint's) covers the event at {@code (commitLsn, seq)}: it is at
     * or before this one, so already in Kafka. {@link #NONE} covers nothing.
     */
    public boolean covers(Lsn commitLsn, long seq) {
        if (this.commitLsn.isZero()) {
            return false;
        }
        int c = commitLsn.compareTo(this.commitLsn);
        return c < 0 || (c == 0 && seq <= this.seq);
    }

    public boolean isAfter(Position other) {
        return compareTo(other) > 0;
    }

    @Override
    public String toString() {
        return commitLsn + "#" + seq;
    }
}
