package io.pgrelay.agent.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.snapshot.SnapshotState;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one Kafka transaction wrote last: the position of its last event, the leader's epoch and id,
 * how far the slot may be confirmed, where the slot's stream begins, and — while one is in
 * progress — the snapshot's state. Written to the checkpoints topic inside the same transaction as
 * the events, so it is visible to {@code read_committed} readers exactly when they are.
 *
 * <p>JSON: {@code {"commitLsn":"0/1A2B400","seq":3,"epoch":7,"agent":"agent-1","flushed":"0/1A2B430",
 * "origin":{"lsn":"0/1500000","snapshot":"750:750:"},"snapshot":{…}}}.
 * {@code flushed}, {@code origin} and {@code snapshot} are absent when not known or not in progress
 * (and in records of older versions).
 *
 * @param flushed     the highest LSN the cluster has let (or will let) the slot confirm; {@link Lsn#ZERO}
 *                    when not known (a record of an older version). The slot's {@code confirmed_flush_lsn}
 *                    is never past it while the slot is the one this cluster streams from.
 * @param origin      the slot's origin, null when pgrelay did not create the slot (or an older version did)
 * @param snapshot    {@link SnapshotState#NONE} when no snapshot is in progress
 */
public record Checkpoint(Position position, long epoch, String agent, Lsn flushed, SlotOrigin origin,
                         SnapshotState snapshot) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public Checkpoint {
        flushed = flushed == null ? Lsn.ZERO : flushed;
        snapshot = snapshot == null ? SnapshotState.NONE : snapshot;
    }

    public Checkpoint(Position position, long epoch, String agent, SnapshotState snapshot) {
        this(position, epoch, agent, Lsn.ZERO, null, snapshot);
    }

    public Checkpoint(Position position, long epoch, String agent) {
        this(position, epoch, agent, SnapshotState.NONE);
    }

    /** True once an event was checkpointed: the cluster has streamed (a record written by {@code init} has none yet). */
    public boolean streamed() {
        return !position.commitLsn().isZero();
    }

    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("commitLsn", position.commitLsn().toString());
        n.put("seq", position.seq());
        n.put("epoch", epoch);
        n.put("agent", agent);
        if (!flushed.isZero()) {
            n.put("flushed", flushed.toString());
        }
        if (origin != null) {
            ObjectNode o = n.putObject("origin");
            o.put("lsn", origin.consistentPoint().toString());
            o.put("snapshot", origin.snapshot());
        }
        if (snapshot.active()) {
            n.set("snapshot", snapshot.toJsonNode());
        }
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a checkpoint record", e);
        }
    }

    public static Checkpoint fromJson(byte[] json) {
        try {
            JsonNode n = JSON.readTree(json);
            JsonNode s = n.path("snapshot");
            JsonNode o = n.path("origin");
            SlotOrigin origin = null;
            if (o.isObject()) {
                origin = new SlotOrigin(Lsn.parse(o.get("lsn").asText()), o.get("snapshot").asText());
            }
            return new Checkpoint(new Position(Lsn.parse(n.get("commitLsn").asText()), n.get("seq").asLong()),
                    n.path("epoch").asLong(0), n.path("agent").asText(""),
                    n.hasNonNull("flushed") ? Lsn.parse(n.get("flushed").asText()) : Lsn.ZERO, origin,
                    s.isObject() ? SnapshotState.fromJson(s) : SnapshotState.NONE);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("unreadable checkpoint record: " + new String(json, StandardCharsets.UTF_8), e);
        }
    }
}
