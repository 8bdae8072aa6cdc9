package io.pgrelay.agent.config;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The {@code postgres.tls} section: how every connection to PostgreSQL uses TLS. Files are PEM.
 *
 * @param mode {@code null} when the section is absent: pgrelay then sets nothing and pgjdbc's own
 *             behaviour applies ({@code sslmode} from the URL, else {@code prefer}: TLS when the
 *             server offers it, with no check of who the server is)
 * @param ca   the CA that signed the server's certificate ({@code verify-ca}, {@code verify-full});
 *             null: the JVM's default trust store
 * @param cert a client certificate, for servers that ask for one ({@code cert} in pg_hba.conf)
 * @param key  the client certificate's private key (unencrypted PKCS#8 or PKCS#1 RSA)
 */
public record PostgresTls(Mode mode, Path ca, Path cert, Path key) {

    public static final PostgresTls NOT_SET = new PostgresTls(null, null, null, null);
    /** When {@code postgres.tls} is present without a mode: encrypted, and the server proven by its certificate and name. */
    public static final Mode DEFAULT_MODE = Mode.VERIFY_FULL;

    public enum Mode {
        DISABLE, REQUIRE, VERIFY_CA, VERIFY_FULL;

        /** As written in YAML and in pgjdbc's {@code sslmode}: {@code verify-full}. */
        public String text() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public boolean verifies() {
            return this == VERIFY_CA || this == VERIFY_FULL;
        }
    }

    public boolean configured() {
        return mode != null;
    }
}
