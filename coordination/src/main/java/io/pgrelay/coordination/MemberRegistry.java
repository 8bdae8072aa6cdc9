package io.pgrelay.coordination;

import java.time.Duration;
import java.util.List;

/**
 * Where every agent of a cluster publishes {@link Member} entries: table {@code pgrelay.members}
 * in slot mode (a heartbeat every poll interval; entries older than {@link #liveWithin} count as
 * gone), ephemeral znodes {@code /pgrelay/<cluster>/members/<id>} in ZooKeeper mode (gone with
 * the session). Anyone may read it, e.g. the dashboard, through the static {@code read} methods.
 */
public interface MemberRegistry extends AutoCloseable {

    /** Creates this agent's entry. */
    void start(Role role) throws Exception;

    /** Rewrites this agent's entry. */
    void publish(Role role, long epoch) throws Exception;

    /** Keeps this agent's entry alive; called every poll interval. */
    void heartbeat() throws Exception;

    /** The live members, sorted by id. */
    List<Member> members() throws Exception;

    /** Removes this agent's entry. Never throws. */
    @Override
    void close();

    /** How old a slot-mode heartbeat may be before its member counts as gone: 4 poll intervals, at least 2 s. */
    static Duration liveWithin(Duration pollInterval) {
        Duration four = pollInterval.multipliedBy(4);
        return four.compareTo(Duration.ofSeconds(2)) < 0 ? Duration.ofSeconds(2) : four;
    }

    /** Slot mode: the live members of {@code cluster} from {@code pgrelay.members}. */
    static List<Member> read(ConnectionSource postgres, String cluster, Duration liveWithin) throws Exception {
        return PgMemberRegistry.read(postgres, cluster, liveWithin);
    }

    /** ZooKeeper mode: the members of {@code cluster}, through a short-lived client. */
    static List<Member> read(String zookeeperConnect, String cluster) throws Exception {
        return read(zookeeperConnect, cluster, null, null);
    }

    /** ZooKeeper mode, logged in as {@code auth} and over {@code tls} (either may be null). */
    static List<Member> read(String zookeeperConnect, String cluster, ZooKeeperAuth auth, ZooKeeperTls tls) throws Exception {
        return ZkMemberRegistry.read(zookeeperConnect, cluster, auth, tls);
    }
}
