package io.pgrelay.agent.replication;

import io.pgrelay.agent.core.Lsn;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Reads the slot's {@code pgoutput} stream over a replication connection.
 *
 * <p>Thread rule: pgjdbc's replication stream is not thread-safe, so only the reader thread calls
 * any method of this class. Status updates (with the flushed LSN) are sent from inside
 * {@link #poll()} every status interval, and by {@link #keepAlive()} while the pipeline is blocked
 * downstream, so PostgreSQL's {@code wal_sender_timeout} never ends the connection under backpressure.
 */
public final class WalReader implements AutoCloseable {

    /** How long {@link #close()} waits for each read of the server's answer. */
    static final int CLOSE_TIMEOUT_MS = 2_000;

    private final Connection connection;
    private final String slot;
    private final PGReplicationStream stream;
    private Lsn confirmed = Lsn.ZERO;

    private WalReader(Connection connection, String slot, PGReplicationStream stream) {
        this.connection = connection;
        this.slot = slot;
        this.stream = stream;
    }

    /**
     * Starts replication from the slot's confirmed position. Throws the server's error as is when
     * the slot is held by another walsender (SQLSTATE 55006); the caller decides what that means.
     *
     * @param connection a replication connection ({@code replication=database}); closed with this reader
     */
    public static WalReader start(Connection connection, String slot, String publication, Duration statusInterval)
            throws SQLException {
        PGReplicationStream stream = connection.unwrap(PGConnection.class).getReplicationAPI()
                .replicationStream()
                .logical()
                .withSlotName(slot)
                .withSlotOption("proto_version", "1")
                .withSlotOption("publication_names", quotePublication(publication))
                .withSlotOption("messages", true)
                .withStatusInterval((int) Math.max(1, statusInterval.toMillis()), TimeUnit.MILLISECONDS)
                // Not pgjdbc's automatic flush, which confirms keepalive positions past what a checkpoint
                // records: the slot is confirmed only through what Kafka holds a record of (SlotCheck
                // tells the cluster's slot from one created anew by that). Heartbeats keep an idle slot moving.
                .withAutomaticFlush(false)
                .start();
        return new WalReader(connection, slot, stream);
    }

    /** publication_names is a list of identifiers: quote the name so case and odd characters survive. */
    static String quotePublication(String publication) {
        return '"' + publication.replace("\"", "\"\"") + '"';
    }

    /** The next pgoutput message, or null when none is waiting. Never blocks on the network. */
    public ByteBuffer poll() throws SQLException {
        return stream.readPending();
    }

    /** {@link #lastReceived()} as a number, without allocating: the reader asks for it per message. */
    public long lastReceivedValue() {
        return stream.getLastReceiveLSN().asLong();
    }

    /** The WAL position of the message last returned by {@link #poll()} (or the server's, after a keepalive). */
    public Lsn lastReceived() {
        return Lsn.of(stream.getLastReceiveLSN().asLong());
    }

    /**
     * Tells PostgreSQL that everything up to {@code lsn} is durable in Kafka; the slot may release
     * the WAL before it. Sent at once.
     */
    public void confirm(Lsn lsn) throws SQLException {
        if (!lsn.isAfter(confirmed)) {
            return;
        }
        LogSequenceNumber l = LogSequenceNumber.valueOf(lsn.value());
        stream.setFlushedLSN(l);
        stream.setAppliedLSN(l);
        stream.forceUpdateStatus();
        confirmed = lsn;
    }

    /** Sends a status update without reading, so the walsender knows we are alive while we wait downstream. */
    public void keepAlive() throws SQLException {
        stream.forceUpdateStatus();
    }

    public Lsn confirmed() {
        return confirmed;
    }

    public String slot() {
        return slot;
    }

    /**
     * Closes the connection without ending the stream first: for a reader whose leadership is lost,
     * which confirms nothing more. The walsender ends when it sees the connection close (at once
     * when the network works, at {@code wal_sender_timeout} when it does not), which frees the slot.
     */
    public void abandon() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // nothing more to release
        }
    }

    /**
     * Closes the stream (CopyDone, then the server's answer) and the connection. The answer is
     * awaited at most {@link #CLOSE_TIMEOUT_MS} per read: on a silent network (a partition that
     * drops packets) pgjdbc would wait for it forever, and the term could not end.
     */
    @Override
    public void close() {
        try {
            connection.setNetworkTimeout(Runnable::run, CLOSE_TIMEOUT_MS);
            if (!stream.isClosed()) {
                stream.close();
            }
        } catch (SQLException ignored) {
            // the connection may already be gone; closing it below is all that is left to do
        } finally {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // nothing more to release
            }
        }
    }
}
