package io.pgrelay.agent.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code coordination} section: how the agents agree on a leader.
 *
 * @param zookeeper    always present; its {@code connect} is null unless given (it is required with mode zookeeper)
 * @param pollInterval how often a standby looks at the slot and the leader
 * @param hangTimeout  how long a leader may stop making progress before the standbys treat it as dead
 */
public record CoordinationConfig(Mode mode, Zookeeper zookeeper, Duration pollInterval, Duration hangTimeout) {

    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(500);
    public static final Duration DEFAULT_HANG_TIMEOUT = Duration.ofSeconds(5);

    public enum Mode {
        /** the agents race for the replication slot itself; nothing else to run */
        SLOT,
        /** Curator's LeaderSelector lock in ZooKeeper decides */
        ZOOKEEPER
    }

    /**
     * {@code coordination.zookeeper}: the ensemble ({@code host:port,host:port[/chroot]}), the session
     * timeout, the SASL (DIGEST-MD5) user of {@code auth}: {@code username} null without it, and
     * {@code tls.ca}: the PEM CA of the servers' certificates, null for plaintext.
     */
    public record Zookeeper(String connect, Duration sessionTimeout, String username, Secret password, Path tlsCa) {
        public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(3);

        public boolean authenticates() {
            return username != null;
        }

        public boolean tls() {
            return tlsCa != null;
        }
    }
}
