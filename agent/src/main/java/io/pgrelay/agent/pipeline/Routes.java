package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.RowEncoder;
import io.pgrelay.agent.kafka.Sink;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.route.TopicNames;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Where each relation's rows go: its topic (from {@link TopicNames}, created when first seen) and
 * its table's counters, looked up once per Relation message rather than once per row.
 *
 * <p>Thread rule: only the sink thread uses an instance.
 */
final class Routes {

    record Route(Relation relation, String topic, StreamStats.TableCounters counters) {
    }

    private final Sink sink;
    private final RowEncoder encoder;
    private final Function<TableId, List<String>> primaryKeys;
    private final TopicNames topics;
    private final StreamStats stats;
    private final Map<Integer, Route> stream = new HashMap<>();
    /** Routes of snapshot rows whose relation (read from the catalog) is not the stream's current one. */
    private final Map<Integer, Route> snapshot = new HashMap<>();

    Routes(Sink sink, RowEncoder encoder, Function<TableId, List<String>> primaryKeys, TopicNames topics, StreamStats stats) {
        this.sink = sink;
        this.encoder = encoder;
        this.primaryKeys = primaryKeys;
        this.topics = topics;
        this.stats = stats;
    }

    /** The route of the relation's rows from now on: the stream's rows decode against this Relation message. */
    void onRelation(Relation relation) {
        stream.put(relation.relationId(), route(relation));
    }

    /** The stream's route for a row, or null when no Relation message named the id. */
    Route get(int relationId) {
        return stream.get(relationId);
    }

    /**
     * Where a chunk's rows go. The relation read from the catalog is normally equal to the stream's
     * (same columns, types, identity); when the table changed in between, it is kept apart so the
     * stream's rows keep decoding against the Relation message pgoutput sent.
     */
    Route forSnapshot(Relation relation) {
        Route streamRoute = stream.get(relation.relationId());
        if (streamRoute != null && streamRoute.relation().equals(relation)) {
            return streamRoute;
        }
        Route route = snapshot.get(relation.relationId());
        if (route == null || !route.relation().equals(relation)) {
            route = route(relation);
            snapshot.put(relation.relationId(), route);
        }
        return route;
    }

    private Route route(Relation relation) {
        if (relation.replicaIdentity() == Relation.IDENTITY_FULL) {
            // FULL flags every column as key; the primary key, when there is one, is the row's real identity.
            encoder.setPrimaryKey(relation.tableId(), primaryKeys.apply(relation.tableId()));
        }
        String topic = topics.topicFor(relation.tableId());
        sink.ensureTopic(topic);
        return new Route(relation, topic, stats.table(relation.tableId().toString()));
    }
}
