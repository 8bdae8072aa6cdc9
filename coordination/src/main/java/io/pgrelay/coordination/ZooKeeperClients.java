package io.pgrelay.coordination;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * Every ZooKeeper client of pgrelay — the election's, and the short-lived one that reads the
 * member registry — is built here, so that all of them log in ({@link ZooKeeperAuth}) and speak
 * TLS ({@link ZooKeeperTls}) alike, with one {@link ZKClientConfig} carrying both.
 */
final class ZooKeeperClients {

    private ZooKeeperClients() {
    }

    /** Not started. {@code auth} and {@code tls} may be null (none). */
    static CuratorFramework build(String connect, Duration sessionTimeout, Duration connectionTimeout,
                                  ZooKeeperAuth auth, ZooKeeperTls tls, RetryPolicy retry) {
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) connectionTimeout.toMillis())
                .retryPolicy(retry);
        if (auth != null || tls != null) {
            ZKClientConfig config = auth != null ? auth.clientConfig() : new ZKClientConfig();
            b.zkClientConfig(tls != null ? tls.applyTo(config) : config);
        }
        if (auth != null) {
            b.aclProvider(auth.acls());
        }
        return b.build();
    }

    /**
     * Starts {@code client} and waits for its connection; on time out closes it and throws, saying
     * why when a TLS handshake tells ({@link ZooKeeperHandshake}): the ZooKeeper client itself only
     * logs a failed handshake and tries again, forever.
     */
    static void connect(CuratorFramework client, String connect, ZooKeeperTls tls, Duration wait, String who)
            throws InterruptedException {
        client.start();
        if (!client.blockUntilConnected((int) wait.toMillis(), TimeUnit.MILLISECONDS)) {
            client.close();
            String why = ZooKeeperHandshake.explain(connect, tls);
            throw new IllegalStateException(who + "cannot reach ZooKeeper at " + connect + " within " + wait.toMillis()
                    + " ms" + (why == null ? "" : ": " + why));
        }
    }
}
