package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * How a consumer rebuilds a table without a key from its topic, as docs/operations.md tells it:
 * records in position order ({@code pgrelay.commit-lsn}, then {@code pgrelay.seq}: a topic with
 * several partitions has no order across them otherwise); a truncate empties the table (a keyless
 * table's snapshot starts with one on every partition); inserts and snapshot rows add a row; an
 * update's or delete's {@code before} removes one row equal to it.
 */
final class KeylessRebuild {

    private KeylessRebuild() {
    }

    /** The multiset of rows, each row as {@code row} renders an event's {@code after}/{@code before}. */
    static Map<String, Integer> rebuild(List<ConsumerRecord<String, String>> records, Function<JsonNode, String> row) {
        List<ConsumerRecord<String, String>> ordered = new ArrayList<>();
        for (ConsumerRecord<String, String> r : records) {
            if (r.value() != null) {   // tombstones
                ordered.add(r);
            }
        }
        ordered.sort(Comparator.<ConsumerRecord<String, String>>comparingLong(r -> lsn(ItSupport.header(r, "pgrelay.commit-lsn")))
                .thenComparingLong(r -> Long.parseLong(ItSupport.header(r, "pgrelay.seq"))));
        Map<String, Integer> rows = new HashMap<>();
        for (ConsumerRecord<String, String> rec : ordered) {
            JsonNode e = ItSupport.json(rec.value());
            switch (e.path("op").asText()) {
                case "truncate" -> rows.clear();
                case "insert", "snapshot" -> rows.merge(row.apply(e.path("after")), 1, Integer::sum);
                case "update" -> {
                    remove(rows, row.apply(e.path("before")));
                    rows.merge(row.apply(e.path("after")), 1, Integer::sum);
                }
                case "delete" -> remove(rows, row.apply(e.path("before")));
                default -> throw new IllegalStateException("unexpected event " + rec.value());
            }
        }
        return rows;
    }

    /**
     * Removes one row equal to {@code row} when the consumer holds one. It may not: a row from
     * before the slot changed before the table's snapshot brought it (the truncate that starts the
     * snapshot drops what came before anyway), or after a snapshot a leader left half-sent (the
     * next leader starts the table over with a new truncate). The final comparison is the test.
     */
    private static void remove(Map<String, Integer> rows, String row) {
        rows.computeIfPresent(row, (k, v) -> v == 1 ? null : v - 1);
    }

    static long count(Map<String, Integer> rows) {
        return rows.values().stream().mapToLong(Integer::longValue).sum();
    }

    private static long lsn(String text) {
        int slash = text.indexOf('/');
        return (Long.parseLong(text.substring(0, slash), 16) << 32) | Long.parseLong(text.substring(slash + 1), 16);
    }
}
