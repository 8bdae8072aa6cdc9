package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.RowEncoder;
import io.pgrelay.agent.kafka.KafkaSink;
import io.pgrelay.agent.postgres.SlotState;
import io.pgrelay.agent.replication.WalReader;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** Opens what the pipeline needs; each call gives a new instance. */
public interface PipelineResources {
    WalReader openReader() throws SQLException;

    KafkaSink openSink();

    RowEncoder newEncoder();

    /**
     * Starts reading what the last leader left in Kafka — the newest checkpoint and the shapes
     * on the schema topic — at once, before the slot is held and the old leader fenced, so the
     * reads overlap with both; the {@link KafkaState} answers settle them after fencing.
     */
    KafkaState readAhead();

    /** Primary-key column names of a table (empty when it has none); asked for REPLICA IDENTITY FULL tables. */
    List<String> primaryKey(TableId table);

    /** A plain connection whose results come as text, for the snapshot worker. */
    Connection openSnapshotConnection() throws SQLException;

    /** A replication connection ({@code replication=database}): the snapshot's temporary slots. */
    Connection openReplicationConnection() throws SQLException;

    /** The slot as {@code pg_replication_slots} shows it now; empty when missing. */
    Optional<SlotState> slotState() throws SQLException;
}
