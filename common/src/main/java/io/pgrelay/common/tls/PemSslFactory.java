package io.pgrelay.common.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Properties;
import org.postgresql.PGProperty;
import org.postgresql.ssl.WrappedFactory;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * pgjdbc's {@code sslfactory} for {@code postgres.tls}: TLS from the PEM files named in pgjdbc's own
 * {@code sslrootcert}, {@code sslcert} and {@code sslkey}. pgjdbc 42.7.8's default factory reads the
 * key only as PKCS-8 DER (or PKCS-12); this one takes the PEM files the configuration names, and
 * says which certificate failed against which CA file. Under {@code sslmode=verify-full} the host
 * name is checked in the handshake too (endpoint identification), so a certificate for another name
 * fails with a message naming the names it holds and the host asked for; pgjdbc's own check after
 * the handshake (MakeSSL) then finds nothing more to refuse.
 *
 * <p>The TLS socket is layered on a {@link BufferedInputSocket}: the JDK reads a TLS record in two
 * reads of the socket under it, and PostgreSQL's walsender sends one record per change, so without
 * the buffer a replication connection made two system calls per row (see BENCHMARKS.md, TLS).
 *
 * <p>pgjdbc creates one per connection, with the connection's properties. The agent and the
 * dashboard (reading the member registry) both use it.
 */
public final class PemSslFactory extends WrappedFactory {

    private final boolean checkHostName;

    public PemSslFactory(Properties info) {
        String mode = PGProperty.SSL_MODE.getOrDefault(info);
        boolean verify = "verify-ca".equals(mode) || "verify-full".equals(mode);
        checkHostName = "verify-full".equals(mode);
        factory = TlsContexts.client(path(info, PGProperty.SSL_ROOT_CERT), verify, path(info, PGProperty.SSL_CERT),
                path(info, PGProperty.SSL_KEY)).getSocketFactory();
    }

    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        Socket created = factory.createSocket(new BufferedInputSocket(socket), host, port, autoClose);
        if (checkHostName && created instanceof SSLSocket tls) {
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(parameters);
        }
        return created;
    }

    private static Path path(Properties info, PGProperty property) {
        String value = info.getProperty(property.getName());
        return value == null || value.isEmpty() ? null : Path.of(value);
    }
}
