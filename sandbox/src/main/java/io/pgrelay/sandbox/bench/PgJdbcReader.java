package io.pgrelay.sandbox.bench;

import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The other ceiling: a bare pgjdbc replication reader in the benchmark's JVM that only reads
 * {@code pgoutput} messages, counts the inserts and acknowledges — the same driver pgrelay uses,
 * with nothing behind it. Done when it has received a commit (or a keepalive) at or past the
 * workload's end and told the server so.
 */
final class PgJdbcReader implements Candidate {

    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);

    @Override
    public String name() {
        return "pgjdbc reader";
    }

    @Override
    public String slotPrefix() {
        return "ceiling_jdbc_";
    }

    @Override
    public Measurement drain(Backlog b) throws Exception {
        Properties props = new Properties();
        PGProperty.USER.set(props, "postgres");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        long t0 = System.nanoTime();
        try (Connection c = DriverManager.getConnection(b.sandbox().postgres().jdbcUrl(), props)) {
            PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI()
                    .replicationStream().logical()
                    .withSlotName(b.slot())
                    .withSlotOption("proto_version", "1")
                    .withSlotOption("publication_names", b.publication())
                    .withStatusInterval(1, TimeUnit.SECONDS)
                    .start();
            double attachSeconds = (System.nanoTime() - t0) / 1e9;
            long inserts = 0;
            long reached = 0;
            while (reached < b.endLsn()) {
                ByteBuffer msg = stream.readPending();
                if (msg == null) {
                    LockSupport.parkNanos(100_000);
                } else {
                    byte type = msg.get(msg.position());
                    if (type == 'I') {
                        inserts++;
                    } else if (type == 'C') {
                        // Commit: flags (1 byte), commit LSN, end LSN, timestamp
                        reached = Math.max(reached, msg.getLong(msg.position() + 10));
                    }
                }
                LogSequenceNumber received = stream.getLastReceiveLSN();
                reached = Math.max(reached, received.asLong());
                stream.setAppliedLSN(received);
                stream.setFlushedLSN(received);
                if (System.nanoTime() - t0 > TIMEOUT_NANOS) {
                    throw new IllegalStateException("pgjdbc reader did not drain slot " + b.slot() + " to "
                            + Lsns.text(b.endLsn()) + " within 120 s (at " + Lsns.text(reached) + ")");
                }
            }
            stream.setAppliedLSN(LogSequenceNumber.valueOf(reached));
            stream.setFlushedLSN(LogSequenceNumber.valueOf(reached));
            stream.forceUpdateStatus();
            double seconds = (System.nanoTime() - t0) / 1e9;
            stream.close();
            if (inserts != b.rows()) {
                throw new IllegalStateException("pgjdbc reader saw " + inserts + " inserts, expected " + b.rows());
            }
            return new Measurement(seconds, attachSeconds, -1, "in the benchmark's JVM");
        }
    }
}
