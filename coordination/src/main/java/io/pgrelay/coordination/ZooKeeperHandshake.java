package io.pgrelay.coordination;

import io.pgrelay.common.tls.TlsContexts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Why a ZooKeeper client could not connect, when TLS is the reason. ZooKeeper's client logs a
 * failed handshake at WARN and retries without end, so a wrong CA or a plaintext client against a
 * TLS-only server would look like an unreachable server. After a connection timed out, this tries
 * one TLS handshake per server of the connect string, as the ZooKeeper client would, and says what
 * went wrong. It sends nothing but the handshake.
 */
final class ZooKeeperHandshake {

    private static final int TIMEOUT_MS = 3_000;

    private ZooKeeperHandshake() {
    }

    /**
     * {@code tls} set: the first server whose certificate is refused, or that does not speak TLS.
     * {@code tls} null: the first server that answers TLS (a {@code secureClientPort}). Null when
     * TLS is not the problem.
     */
    static String explain(String connect, ZooKeeperTls tls) {
        for (InetSocketAddress server : servers(connect)) {
            String why = tls != null ? refused(server, tls) : tlsOnly(server);
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    private static String refused(InetSocketAddress server, ZooKeeperTls tls) {
        String at = server.getHostString() + ":" + server.getPort();
        try {
            handshake(server, TlsContexts.client(tls.ca(), true, null, null).getSocketFactory());
            return null;
        } catch (SSLException e) {
            CertificateException refused = TlsContexts.refusal(e);
            if (refused != null) {
                String fix = refused.getMessage().contains("(the host name is checked)")
                        ? "; connect to a name it holds (coordination.zookeeper.connect)" : " (coordination.zookeeper.tls.ca)";
                return "the ZooKeeper server's certificate at " + at + " is not trusted: " + refused.getMessage() + fix;
            }
            return "no TLS handshake with the ZooKeeper server at " + at + " (" + e.getMessage() + "); is it a plaintext"
                    + " clientPort? TLS takes the server's secureClientPort";
        } catch (IOException e) {
            return null;   // not reachable at all: the timeout said so
        }
    }

    private static String tlsOnly(InetSocketAddress server) {
        try {
            handshake(server, TlsContexts.client(null, false, null, null).getSocketFactory());
            return "the ZooKeeper server at " + server.getHostString() + ":" + server.getPort() + " answers TLS only"
                    + " (a secureClientPort): set coordination.zookeeper.tls.ca to the CA of its certificate";
        } catch (IOException e) {
            return null;
        }
    }

    private static void handshake(InetSocketAddress server, SSLSocketFactory factory) throws IOException {
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress(server.getHostString(), server.getPort()), TIMEOUT_MS);
            raw.setSoTimeout(TIMEOUT_MS);
            try (SSLSocket tls = (SSLSocket) factory.createSocket(raw, server.getHostString(), server.getPort(), false)) {
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");   // the host name is checked, as ZooKeeper's client does
                tls.setSSLParameters(p);
                tls.startHandshake();
            }
        }
    }

    /** The servers of {@code host:port,host:port[/chroot]}; a server without a port is on 2181. */
    static List<InetSocketAddress> servers(String connect) {
        String hosts = connect.contains("/") ? connect.substring(0, connect.indexOf('/')) : connect;
        List<InetSocketAddress> out = new ArrayList<>();
        for (String s : hosts.split(",")) {
            String hp = s.strip();
            if (hp.isEmpty()) {
                continue;
            }
            int colon = hp.lastIndexOf(':');
            boolean port = colon > 0 && hp.indexOf(']') < colon && hp.substring(colon + 1).matches("\\d{1,5}");
            String host = port ? hp.substring(0, colon) : hp;
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            out.add(InetSocketAddress.createUnresolved(host, port ? Integer.parseInt(hp.substring(colon + 1)) : 2181));
        }
        return out;
    }
}
