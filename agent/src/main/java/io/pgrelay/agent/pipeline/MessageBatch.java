package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.pgoutput.PgMessage;

/**
 * Decoded messages handed from the reader thread to the sink thread in one piece, so the hand-off
 * costs one queue operation per batch rather than per row. Owned by one thread at a time.
 */
final class MessageBatch {

    /** Tells the sink thread that the reader stopped: commit what is open and end. */
    static final MessageBatch END = new MessageBatch(0);

    final PgMessage[] messages;
    /** WAL position (XLogData start) of each message. */
    final long[] lsns;
    int size;

    MessageBatch(int capacity) {
        messages = new PgMessage[capacity];
        lsns = new long[capacity];
    }

    boolean add(PgMessage message, long lsn) {
        messages[size] = message;
        lsns[size] = lsn;
        return ++size == messages.length;
    }

    boolean isEmpty() {
        return size == 0;
    }
}
