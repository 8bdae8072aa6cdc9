package io.pgrelay.agent.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.snapshot.SnapshotState;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What one Kafka transaction wrote last: the position of its last event, the leader's epoch and id,
 * and — while one is in progress — the snapshot's state. Written to the checkpoints topic inside the
 * same transaction as the events, so it is visible to {@code read_committed} readers exactly when
 * they are.
 *
 * <p>JSON: {@code {"commitLsn":"0/1A2B400","seq":3,"epoch":7,"agent":"agent-1","snapshot":{…}}};
 * {@code snapshot} is absent when no snapshot is in progress (and in records of older versions).
 *
 * @param snapshot {@link SnapshotState#NONE} when no snapshot is in progress
 */
public record Checkpoint(Position position, long epoch, String agent, SnapshotState snapshot) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public Checkpoint {
        snapshot = snapshot == null ? SnapshotState.NONE : snapshot;
    }

    public Checkpoint(Position position, long epoch, String agent) {
        this(position, epoch, agent, SnapshotState.NONE);
    }

    public byte[] toJson() {
        String base = "{\"commitLsn\":\"" + position.commitLsn() + "\",\"seq\":" + position.seq()
                + ",\"epoch\":" + epoch + ",\"agent\":" + JSON.valueToTree(agent);
        String tail = snapshot.active() ? ",\"snapshot\":" + snapshot.toJsonNode() + "}" : "}";
        return (base + tail).getBytes(StandardCharsets.UTF_8);
    }

    public static Checkpoint fromJson(byte[] json) {
        try {
            JsonNode n = JSON.readTree(json);
            JsonNode s = n.path("snapshot");
            return new Checkpoint(new Position(Lsn.parse(n.get("commitLsn").asText()), n.get("seq").asLong()),
                    n.path("epoch").asLong(0), n.path("agent").asText(""),
                    s.isObject() ? SnapshotState.fromJson(s) : SnapshotState.NONE);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("unreadable checkpoint record: " + new String(json, StandardCharsets.UTF_8), e);
        }
    }
}
