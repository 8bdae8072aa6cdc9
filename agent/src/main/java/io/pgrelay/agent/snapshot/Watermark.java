package io.pgrelay.agent.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.TableId;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The logical decoding messages a snapshot writes into the stream (transactional
 * {@code pg_logical_emit_message}), so they reach the sink in commit order with the row changes:
 * <ul>
 *   <li>{@value #WATERMARK}: {@code {"chunk":"7-12","w":"low"}} / {@code "high"} around one chunk's SELECT;</li>
 *   <li>{@value #REQUEST}: {@code {"tables":["\"public\".\"orders\""]}}, a request to snapshot tables,
 *   durable in the WAL from the moment {@code POST /admin/snapshot} answers 202.</li>
 * </ul>
 */
public final class Watermark {

    public static final String WATERMARK = "pgrelay.snapshot";
    public static final String REQUEST = "pgrelay.snapshot-request";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One watermark: the chunk it belongs to, low (before the SELECT) or high (after). */
    public record Mark(String chunk, boolean low) {
    }

    private Watermark() {
    }

    public static String low(String chunk) {
        return "{\"chunk\":" + JSON.valueToTree(chunk) + ",\"w\":\"low\"}";
    }

    public static String high(String chunk) {
        return "{\"chunk\":" + JSON.valueToTree(chunk) + ",\"w\":\"high\"}";
    }

    /** The watermark in a message's content; empty when it is not one (someone else's message under our prefix). */
    public static Optional<Mark> parse(String content) {
        try {
            JsonNode n = JSON.readTree(content);
            if (n == null || !n.path("chunk").isTextual() || !n.path("w").isTextual()) {
                return Optional.empty();
            }
            String w = n.get("w").asText();
            if (!w.equals("low") && !w.equals("high")) {
                return Optional.empty();
            }
            return Optional.of(new Mark(n.get("chunk").asText(), w.equals("low")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public static String request(List<TableId> tables) {
        StringBuilder s = new StringBuilder("{\"tables\":[");
        for (int i = 0; i < tables.size(); i++) {
            s.append(i > 0 ? "," : "").append(JSON.valueToTree(tables.get(i).quoted()).toString());
        }
        return s.append("]}").toString();
    }

    /** The tables of a request; empty when the content is not a request. */
    public static List<TableId> parseRequest(String content) {
        try {
            JsonNode n = JSON.readTree(content);
            List<TableId> tables = new ArrayList<>();
            for (JsonNode t : n.path("tables")) {
                tables.add(TableId.parse(t.asText()));
            }
            return tables;
        } catch (IOException | IllegalArgumentException e) {
            return List.of();
        }
    }
}
