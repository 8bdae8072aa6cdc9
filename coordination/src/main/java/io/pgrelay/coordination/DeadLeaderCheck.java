package io.pgrelay.coordination;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * ZooKeeper mode: tells a leader that is gone from one that is only slow, so that a standby need
 * not wait for the dead leader's ZooKeeper session to expire (the session timeout, plus up to a
 * tick of the server's, 4–6 s with ZooKeeper's sample {@code tickTime=2000}).
 *
 * <p>Gone means both: the slot exists and no walsender holds it (PostgreSQL ended the dead leader's
 * walsender when its connection closed), and the leader's admin port refuses connections (nothing
 * listens there: the process is dead). A leader that is alive but slow — paused, swapping, in a
 * long GC — keeps its walsender until {@code wal_sender_timeout} and its listening socket, whose
 * connections the kernel accepts even while the process is stopped, so it never looks gone. A
 * connect that times out (a host that vanished, a partition) proves nothing and counts as alive:
 * that case still waits for the session. Fencing keeps even a wrong verdict safe: the next leader
 * bumps the epoch and the Kafka producer epoch, and evicts a walsender it finds on the slot.
 */
final class DeadLeaderCheck {

    /** How long a connect to the leader's admin port may take before it counts as "not refused". */
    static final Duration CONNECT_TIMEOUT = Duration.ofMillis(300);

    private DeadLeaderCheck() {
    }

    /** True when the slot exists and no walsender holds it. */
    static boolean slotFree(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && !rs.getBoolean(1);
            }
        }
    }

    /**
     * True only when a TCP connect to {@code http} ({@code host:port}) is refused. Success, a
     * timeout, an unknown host or an address that cannot be parsed all answer false.
     */
    static boolean refusesConnections(String http) {
        if (http == null) {
            return false;
        }
        int colon = http.lastIndexOf(':');
        if (colon <= 0) {
            return false;
        }
        String host = http.substring(0, colon).replaceFirst("^[a-z]+://", "");
        int port;
        try {
            port = Integer.parseInt(http.substring(colon + 1).replaceAll("/.*$", ""));
        } catch (NumberFormatException e) {
            return false;
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
            return false;
        } catch (ConnectException refused) {
            return !refused.getMessage().toLowerCase(java.util.Locale.ROOT).contains("timed out");
        } catch (IOException | IllegalArgumentException other) {
            return false;
        }
    }
}
