package io.pgrelay.coordination;

import java.nio.file.Path;
import java.util.Objects;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;

/**
 * TLS to ZooKeeper: the client speaks TLS (ZooKeeper's Netty client; the NIO one has none) to the
 * servers' {@code secureClientPort}, and takes a server only if its certificate is signed by the CA
 * in {@code ca} and names the host of the connect string. ZooKeeper reads the PEM file itself.
 *
 * <p>No client certificate: ZooKeeper's PEM key store wants the certificate and its private key in
 * one file, and pgrelay does not write a private key to a file of its own making.
 *
 * @param ca the PEM file of the CA that signed the ZooKeeper servers' certificates
 */
public record ZooKeeperTls(Path ca) {

    public ZooKeeperTls {
        Objects.requireNonNull(ca, "zookeeper tls: ca is required");
    }

    /** Sets TLS on {@code config}, which may carry the SASL login of {@link ZooKeeperAuth} too; returns it. */
    public ZKClientConfig applyTo(ZKClientConfig config) {
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
        try (ClientX509Util names = new ClientX509Util()) {   // the property names, from ZooKeeper itself
            config.setProperty(names.getSslTruststoreLocationProperty(), ca.toString());
            config.setProperty(names.getSslTruststoreTypeProperty(), "PEM");
            config.setProperty(names.getSslHostnameVerificationEnabledProperty(), "true");
        }
        return config;
    }

    /** For messages: which key to fix. */
    String describe() {
        return "the CA in " + ca + " (coordination.zookeeper.tls.ca)";
    }
}
