package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Who led under which epoch, and since when, as the dashboard saw it: an entry each time the
 * leader or its epoch changes (the first leader seen counts as a change). A time without a leader
 * is not an entry; the next leader's entry shows the gap. Keeps the last {@code capacity} entries.
 * Written by the poll thread, read by HTTP threads: guarded by this.
 */
final class LeadershipTimeline {

    record Change(Instant at, String leader, long epoch, String previous) {
    }

    private final int capacity;
    private final Deque<Change> changes = new ArrayDeque<>();

    LeadershipTimeline(int capacity) {
        this.capacity = capacity;
    }

    /** Records {@code leader}/{@code epoch} if they differ from the last entry; returns whether they did. */
    synchronized boolean observe(Instant at, String leader, long epoch) {
        if (leader == null) {
            return false;
        }
        Change last = changes.peekLast();
        if (last != null && last.leader().equals(leader) && last.epoch() == epoch) {
            return false;
        }
        changes.addLast(new Change(at, leader, epoch, last == null ? null : last.leader()));
        while (changes.size() > capacity) {
            changes.removeFirst();
        }
        return true;
    }

    synchronized Change last() {
        return changes.peekLast();
    }

    /** Oldest first: {@code [{"at":"…","leader":"agent-2","epoch":3,"previous":"agent-1"}, …]}. */
    synchronized ArrayNode toJson() {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (Change c : changes) {
            ObjectNode n = out.addObject();
            n.put("at", c.at().toString());
            n.put("leader", c.leader());
            n.put("epoch", c.epoch());
            n.put("previous", c.previous());
        }
        return out;
    }
}
