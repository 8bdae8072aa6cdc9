package io.pgrelay.agent.postgres;

import io.pgrelay.common.tls.TlsContexts;
import java.nio.file.Path;
import java.util.Properties;
import org.postgresql.PGProperty;
import org.postgresql.ssl.WrappedFactory;

/**
 * pgjdbc's {@code sslfactory} for {@code postgres.tls}: TLS from the PEM files named in pgjdbc's own
 * {@code sslrootcert}, {@code sslcert} and {@code sslkey}. pgjdbc 42.7.8's default factory reads the
 * key only as PKCS-8 DER (or PKCS-12); this one takes the PEM files the configuration names, and
 * says which certificate failed against which CA file. pgjdbc still checks the host name itself
 * under {@code sslmode=verify-full} (MakeSSL, after the handshake).
 *
 * <p>pgjdbc creates one per connection, with the connection's properties.
 */
public final class PemSslFactory extends WrappedFactory {

    public PemSslFactory(Properties info) {
        String mode = PGProperty.SSL_MODE.getOrDefault(info);
        boolean verify = "verify-ca".equals(mode) || "verify-full".equals(mode);
        factory = TlsContexts.client(path(info, PGProperty.SSL_ROOT_CERT), verify, path(info, PGProperty.SSL_CERT),
                path(info, PGProperty.SSL_KEY)).getSocketFactory();
    }

    private static Path path(Properties info, PGProperty property) {
        String value = info.getProperty(property.getName());
        return value == null || value.isEmpty() ? null : Path.of(value);
    }
}
