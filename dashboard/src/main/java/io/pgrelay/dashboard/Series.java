package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One agent's samples over the last {@code capacity} ticks, in a ring: time, lag (bytes, seconds)
 * and events per second. A value not known (agent unreachable, agent not reporting it) is NaN
 * here and null in JSON. Written by the poll thread, read by HTTP threads: guarded by this.
 */
final class Series {

    private final long[] times;
    private final double[] lagBytes;
    private final double[] lagSeconds;
    private final double[] eventsPerSecond;
    private int next;
    private int size;

    Series(int capacity) {
        times = new long[capacity];
        lagBytes = new double[capacity];
        lagSeconds = new double[capacity];
        eventsPerSecond = new double[capacity];
    }

    synchronized void add(long timeMillis, double bytes, double seconds, double rate) {
        times[next] = timeMillis;
        lagBytes[next] = bytes;
        lagSeconds[next] = seconds;
        eventsPerSecond[next] = rate;
        next = (next + 1) % times.length;
        size = Math.min(size + 1, times.length);
    }

    synchronized int size() {
        return size;
    }

    /** Writes arrays {@code t}, {@code lagBytes}, {@code lagSeconds}, {@code eventsPerSecond} of the samples after {@code sinceMillis}, oldest first. */
    synchronized void writeTo(ObjectNode out, long sinceMillis) {
        ArrayNode t = out.putArray("t");
        ArrayNode b = out.putArray("lagBytes");
        ArrayNode s = out.putArray("lagSeconds");
        ArrayNode e = out.putArray("eventsPerSecond");
        int first = (next - size + times.length) % times.length;
        for (int i = 0; i < size; i++) {
            int k = (first + i) % times.length;
            if (times[k] <= sinceMillis) {
                continue;
            }
            t.add(times[k]);
            add(b, lagBytes[k]);
            add(s, lagSeconds[k]);
            add(e, eventsPerSecond[k]);
        }
    }

    private static void add(ArrayNode a, double v) {
        if (Double.isNaN(v)) {
            a.addNull();
        } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            a.add((long) v);
        } else {
            a.add(Math.round(v * 1000) / 1000.0);
        }
    }
}
