package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.event.TypeCatalog;
import io.pgrelay.agent.pgoutput.LogicalMessage;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.schema.SchemaChange;
import io.pgrelay.agent.schema.SchemaEvents;
import io.pgrelay.agent.schema.TableSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Decides which schema and DDL events go to the schema topic, and encodes them. A table's schema
 * event is due when a Relation message shows a shape that differs from the last one this cluster
 * published for it — known, at the start of a term, from the schema topic itself — so restarts and
 * failovers, after which PostgreSQL sends every Relation message again, publish nothing new.
 *
 * <p>Thread rule: only the sink thread uses an instance.
 */
final class SchemaStream {

    /** The prefix of the logical decoding messages that the event trigger of {@code init --ddl} emits. */
    static final String DDL_PREFIX = io.pgrelay.agent.postgres.DdlTrigger.PREFIX;

    private static final Logger log = LoggerFactory.getLogger(SchemaStream.class);

    private final String topic;
    private final String cluster;
    private final String slot;
    private final SchemaEvents events;
    private final TypeCatalog types;
    /** Table → the shape last published; starts as the schema topic had it when the term began. */
    private final Map<String, TableSchema> published;

    /** A record for the schema topic. */
    record Out(byte[] key, byte[] value) {
    }

    SchemaStream(String topic, String cluster, String slot, TypeCatalog types, Map<String, TableSchema> published) {
        this.topic = topic;
        this.cluster = cluster;
        this.slot = slot;
        this.events = new SchemaEvents(cluster);
        this.types = types;
        this.published = new HashMap<>(published);
    }

    String topic() {
        return topic;
    }

    /**
     * The schema event due before the rows that follow this Relation message, or null when its
     * table's shape is the one last published. Counts the shape as published: the caller sends it.
     */
    Out onRelation(Relation relation, SchemaEvents.At at) {
        TableSchema schema = TableSchema.of(relation, types);
        TableSchema previous = published.get(schema.table());
        if (schema.sameShapeAs(previous)) {
            return null;
        }
        published.put(schema.table(), schema);
        if (previous == null) {
            log.info("slot {}: first schema event for {} at LSN {} ({} columns)", slot, schema.table(), at.lsn(),
                    schema.columns().size());
        } else {
            log.info("slot {}: schema of {} changed at LSN {}: {}", slot, schema.table(), at.lsn(),
                    SchemaChange.between(previous, schema));
        }
        return new Out(SchemaEvents.schemaKey(schema), events.schema(schema, previous, at));
    }

    /** Is this a DDL message of this cluster's event trigger? Decided before it is given a position. */
    boolean isOwnDdl(LogicalMessage message) {
        if (!message.transactional() || !DDL_PREFIX.equals(message.prefix())) {
            return false;
        }
        try {
            String of = SchemaEvents.parseDdlMessage(message.content()).cluster();
            return of == null || of.equals(cluster);
        } catch (IllegalArgumentException e) {
            return true; // forwarded as it is (see onDdl), rather than dropped quietly
        }
    }

    /** The DDL event of a message that {@link #isOwnDdl} accepted. */
    Out onDdl(LogicalMessage message, SchemaEvents.At at) {
        SchemaEvents.Ddl ddl;
        try {
            ddl = SchemaEvents.parseDdlMessage(message.content());
        } catch (IllegalArgumentException e) {
            log.warn("slot {}: a {} message at LSN {} is not what pgrelay's event trigger writes ({}); forwarding its text as the DDL",
                    slot, DDL_PREFIX, at.lsn(), e.getMessage());
            ddl = new SchemaEvents.Ddl(cluster, null, new String(message.content(), StandardCharsets.UTF_8), null, "[]");
        }
        return new Out(SchemaEvents.ddlKey(at), events.ddl(ddl, at));
    }
}
