package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.pgoutput.PgMessage;

/**
 * Decoded messages handed from the reader thread to the sink thread in one piece, so the hand-off
 * costs one queue operation per batch rather than per row. A batch is full at {@code capacity}
 * messages or {@link #MAX_BYTES} of message bytes, whichever comes first, so that the queue of
 * batches bounds memory in bytes too, whatever the rows' width. Owned by one thread at a time.
 */
final class MessageBatch {

    /** Tells the sink thread that the reader stopped: commit what is open and end. */
    static final MessageBatch END = new MessageBatch(0);

    /** Message bytes after which a batch is full: 8 queued batches then hold ~4 MB at most. */
    static final int MAX_BYTES = 512 * 1024;

    final PgMessage[] messages;
    /** WAL position (XLogData start) of each message. */
    final long[] lsns;
    int size;
    private long bytes;

    MessageBatch(int capacity) {
        messages = new PgMessage[capacity];
        lsns = new long[capacity];
    }

    /** Adds a message of {@code length} bytes as received; true when the batch is full. */
    boolean add(PgMessage message, long lsn, int length) {
        messages[size] = message;
        lsns[size] = lsn;
        bytes += length;
        return ++size == messages.length || bytes >= MAX_BYTES;
    }

    boolean isEmpty() {
        return size == 0;
    }
}
