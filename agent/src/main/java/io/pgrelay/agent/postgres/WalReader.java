package io.pgrelay.agent.postgres;

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

    /**
     * For tests only: {@code -Dpgrelay.test.pgjdbcAutomaticFlush=false} turns pgjdbc's automatic
     * flush off, so that a test can show the heartbeat alone keeps an idle slot moving (with it on,
     * pgjdbc moves the slot on keepalives too, and a broken heartbeat would go unnoticed).
     */
    private static final boolean AUTOMATIC_FLUSH =
            Boolean.parseBoolean(System.getProperty("pgrelay.test.pgjdbcAutomaticFlush", "true"));

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
                // pgjdbc advances the flushed LSN on a keepalive only once our explicit flush covers the
                // last message received, i.e. everything received is in Kafka; that keeps an idle slot moving.
                .withAutomaticFlush(AUTOMATIC_FLUSH)
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

    @Override
    public void close() {
        try {
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
