package io.pgrelay.agent.event;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;

import java.util.List;

/**
 * Turns row events into Kafka record keys and values in one format ({@code kafka.format}):
 * {@link EventEncoder} for pgrelay's own event, {@link DebeziumEncoder} for Debezium's envelope.
 * Chosen once when the pipeline starts; everything a row needs is prepared by {@link #register}.
 *
 * <p>Single-threaded: one encoder per pipeline thread.
 */
public interface RowEncoder {

    /** The catalog this encoder describes types with. */
    TypeCatalog types();

    /**
     * The primary key of a table, used as the event key when the table has REPLICA IDENTITY FULL.
     * Takes effect for a relation registered afterwards, and re-registers one already known.
     */
    void setPrimaryKey(TableId table, List<String> columns);

    /** Prepares encoding of the relation's rows; replaces what an earlier Relation message with its id said. */
    void register(Relation relation);

    /**
     * The Kafka record key; null when the event has none (no key columns, a truncate).
     *
     * @throws EventEncodingException naming table, column and LSN when a value cannot be encoded
     */
    byte[] key(ChangeEvent event);

    /**
     * The Kafka record value.
     *
     * @throws EventEncodingException naming table, column and LSN when a value cannot be encoded
     */
    byte[] value(ChangeEvent event);

    /** Whether events of this kind are written at all (Debezium skips truncates by default). */
    default boolean writes(Op op) {
        return true;
    }
}
