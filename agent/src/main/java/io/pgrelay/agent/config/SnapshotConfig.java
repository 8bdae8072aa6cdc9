package io.pgrelay.agent.config;

/**
 * The {@code snapshot} section: whether a leader sends the published tables' existing rows as
 * {@code op:"snapshot"} events, and in chunks of how many rows.
 *
 * @param mode      {@code initial} (default): when the cluster has no checkpoint yet (its first
 *                  start); {@code always}: at the start of every leadership term unless a snapshot
 *                  is already in progress; {@code never}: only on {@code POST /admin/snapshot}
 * @param chunkSize rows per chunk (and per watermark window)
 */
public record SnapshotConfig(Mode mode, int chunkSize) {

    public static final int DEFAULT_CHUNK_SIZE = 2048;
    public static final int MAX_CHUNK_SIZE = 1_000_000;

    public enum Mode {
        INITIAL, NEVER, ALWAYS, WHEN_NEEDED
    }
}
