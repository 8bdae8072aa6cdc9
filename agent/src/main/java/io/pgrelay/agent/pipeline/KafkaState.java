package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.schema.TableSchema;

import java.util.Map;
import java.util.Optional;

/** Reads of the last leader's Kafka state under way; {@link #close()} whether or not they were settled. */
public interface KafkaState extends AutoCloseable {
    /** The newest committed checkpoint; ask once this leader's producer has fenced the old one. */
    Optional<Checkpoint> checkpoint();

    /** The shape last published on the schema topic for each table ({@code schema.table}); ask after fencing too. */
    Map<String, TableSchema> schemas();

    @Override
    void close();
}
