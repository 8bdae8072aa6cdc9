package io.pgrelay.agent.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What one Kafka transaction wrote last: the position of its last event, the leader's epoch and id.
 * Written to the checkpoints topic inside the same transaction as the events, so it is visible to
 * {@code read_committed} readers exactly when they are.
 */
public record Checkpoint(Position position, long epoch, String agent) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public byte[] toJson() {
        return ("{\"commitLsn\":\"" + position.commitLsn() + "\",\"seq\":" + position.seq()
                + ",\"epoch\":" + epoch + ",\"agent\":" + JSON.valueToTree(agent) + "}").getBytes(StandardCharsets.UTF_8);
    }

    public static Checkpoint fromJson(byte[] json) {
        try {
            JsonNode n = JSON.readTree(json);
            return new Checkpoint(new Position(Lsn.parse(n.get("commitLsn").asText()), n.get("seq").asLong()),
                    n.path("epoch").asLong(0), n.path("agent").asText(""));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("unreadable checkpoint record: " + new String(json, StandardCharsets.UTF_8), e);
        }
    }
}
