package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

import java.util.List;

/**
 * The rows one chunk's SELECT read, registered by the snapshot worker before it writes the chunk's
 * high watermark. The sink sends those whose key no change inside the watermark window touched.
 *
 * @param relation  the table's columns as pgoutput would describe them, read from the catalog at SELECT time
 * @param fromKey   the table's {@code lastKey} this chunk continues after (null: the first chunk)
 * @param fromPage  the table's {@code nextPage} this chunk starts at (null: the first chunk)
 * @param lastKey   the chunking key of the last row read, null when no row was read
 * @param nextPage  the first heap page after this chunk: only in a checkpoint of an older version (ctid chunks), else null
 * @param last      no rows of the table follow this chunk
 * @param note      why the table ends without rows (it no longer exists), else null
 */
public record Chunk(String id, TableId table, Relation relation, List<TupleData> rows, List<String> fromKey,
                    Long fromPage, List<String> lastKey, Long nextPage, boolean last,
                    Long estimate, String note) {

    /** What the sink did with a chunk at its high watermark. */
    public enum Outcome {
        /** Its rows (less those the stream superseded) are in the open Kafka transaction; the state moved on. */
        SENT,
        /** The snapshot state no longer expects this chunk (the table was finished or requested anew). */
        STALE
    }
}
