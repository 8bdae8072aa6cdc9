package io.pgrelay.agent.http;

import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/** The Jetty connector for HTTPS on Javalin 6 (Jetty 11), from an {@link SSLContext} built from PEM files. */
final class HttpsConnector {

    private HttpsConnector() {
    }

    static ServerConnector create(Server server, HttpConfiguration http, SSLContext tls, String host, int port) {
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        // Jetty refuses a request whose Host is not a name in the certificate when the client sent
        // SNI; clients reaching the agent by an IP address send none, and the certificate is for the
        // client to check, not the server.
        secure.setSniHostCheck(false);
        http.addCustomizer(secure);
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        return connector;
    }
}
