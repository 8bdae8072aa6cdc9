package io.pgrelay.agent.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgrelay.agent.core.TableId;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a snapshot stands: the tables asked for, in order, and for each how far it got. It rides
 * in the Kafka checkpoint record, so it commits atomically with the snapshot rows it counts, and a
 * new leader continues after the last key sent.
 *
 * <p>Immutable: every change gives a new state. Tables are snapshotted one at a time, in order.
 */
public record SnapshotState(List<TableProgress> tables) {

    public static final SnapshotState NONE = new SnapshotState(List.of());
    private static final ObjectMapper JSON = new ObjectMapper();

    public SnapshotState {
        tables = List.copyOf(tables);
    }

    public enum Status {
        QUEUED, RUNNING, DONE;

        String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One table's progress.
     *
     * @param lastKey  text values of the chunking key of the last row sent (keyed tables), null before the first chunk
     * @param nextPage the first heap page not yet read (tables chunked by ctid), null before the first chunk
     * @param rowsSent snapshot rows sent so far, over every leader
     * @param estimate {@code pg_class.reltuples} when the table started, null when PostgreSQL has no estimate
     * @param note     why a table ended without being read (it no longer exists), else null
     */
    public record TableProgress(TableId table, Status status, List<String> lastKey, Long nextPage, long rowsSent,
                                Long estimate, String note) {
        public TableProgress {
            lastKey = lastKey == null ? null : List.copyOf(lastKey);
        }

        static TableProgress queued(TableId table) {
            return new TableProgress(table, Status.QUEUED, null, null, 0, null, null);
        }
    }

    /** True while some table is not done: only then does the checkpoint carry the state. */
    public boolean active() {
        return tables.stream().anyMatch(t -> t.status() != Status.DONE);
    }

    /** The table being (or next to be) snapshotted. */
    public Optional<TableProgress> current() {
        return tables.stream().filter(t -> t.status() != Status.DONE).findFirst();
    }

    public Optional<TableProgress> table(TableId table) {
        return tables.stream().filter(t -> t.table().equals(table)).findFirst();
    }

    /**
     * Adds the tables to the snapshot. A table already queued or running stays as it is (a repeated
     * request does not start it over); a table done is queued again. When nothing was in progress,
     * the finished tables of the last snapshot are forgotten.
     */
    public SnapshotState request(List<TableId> requested) {
        List<TableProgress> next = new ArrayList<>(active() ? tables : List.of());
        for (TableId t : requested) {
            int at = indexOf(next, t);
            if (at < 0) {
                next.add(TableProgress.queued(t));
            } else if (next.get(at).status() == Status.DONE) {
                next.remove(at);
                next.add(TableProgress.queued(t));
            }
        }
        return new SnapshotState(next);
    }

    /** Records a chunk that was sent: the table's new position, its row count, and whether it is done. */
    public SnapshotState advance(TableId table, List<String> lastKey, Long nextPage, long rows, Long estimate,
                                 boolean done, String note) {
        List<TableProgress> next = new ArrayList<>(tables);
        int at = indexOf(next, table);
        if (at < 0) {
            throw new IllegalArgumentException("table " + table + " is not part of the snapshot");
        }
        TableProgress t = next.get(at);
        next.set(at, new TableProgress(table, done ? Status.DONE : Status.RUNNING,
                lastKey == null ? t.lastKey() : lastKey, nextPage == null ? t.nextPage() : nextPage,
                t.rowsSent() + rows, estimate == null ? t.estimate() : estimate, note));
        return new SnapshotState(next);
    }

    /** A table read whole (it has no key) starts over: running, none of its rows sent yet. */
    public SnapshotState startedOver(TableId table, Long estimate) {
        List<TableProgress> next = new ArrayList<>(tables);
        int at = indexOf(next, table);
        if (at < 0) {
            throw new IllegalArgumentException("table " + table + " is not part of the snapshot");
        }
        next.set(at, new TableProgress(table, Status.RUNNING, null, null, 0, estimate, null));
        return new SnapshotState(next);
    }

    private static int indexOf(List<TableProgress> list, TableId table) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).table().equals(table)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code {"tables":[{"table":"\"public\".\"orders\"","state":"running","rowsSent":…,…}]}}; table names as SQL. */
    public ObjectNode toJsonNode() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("tables");
        for (TableProgress t : tables) {
            ObjectNode n = list.addObject();
            n.put("table", t.table().quoted());
            n.put("state", t.status().json());
            n.put("rowsSent", t.rowsSent());
            if (t.estimate() != null) {
                n.put("estimate", t.estimate());
            }
            if (t.lastKey() != null) {
                ArrayNode key = n.putArray("lastKey");
                t.lastKey().forEach(key::add);
            }
            if (t.nextPage() != null) {
                n.put("nextPage", t.nextPage());
            }
            if (t.note() != null) {
                n.put("note", t.note());
            }
        }
        return root;
    }

    /** Reads what {@link #toJsonNode} wrote. */
    public static SnapshotState fromJson(JsonNode node) {
        List<TableProgress> tables = new ArrayList<>();
        for (JsonNode n : node.path("tables")) {
            List<String> lastKey = null;
            if (n.has("lastKey")) {
                lastKey = new ArrayList<>();
                for (JsonNode v : n.get("lastKey")) {
                    lastKey.add(v.isNull() ? null : v.asText());
                }
            }
            tables.add(new TableProgress(TableId.parse(n.path("table").asText()),
                    Status.valueOf(n.path("state").asText("queued").toUpperCase(java.util.Locale.ROOT)),
                    lastKey, n.has("nextPage") ? n.get("nextPage").asLong() : null, n.path("rowsSent").asLong(0),
                    n.has("estimate") ? n.get("estimate").asLong() : null, n.has("note") ? n.get("note").asText() : null));
        }
        return new SnapshotState(tables);
    }
}
