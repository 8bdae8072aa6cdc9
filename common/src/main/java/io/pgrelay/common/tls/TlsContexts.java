package io.pgrelay.common.tls;

import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * {@link SSLContext}s built from PEM files ({@link Pem}): a server's (certificate and key) and a
 * client's (the CA it trusts, and a certificate and key of its own for servers that ask for one).
 * A server certificate the CA did not sign fails with a message that names the certificate and the
 * CA file, instead of the JDK's "PKIX path building failed".
 */
public final class TlsContexts {

    private TlsContexts() {
    }

    /** A server's context: it presents {@code cert} (the chain, leaf first) and proves it holds {@code key}. */
    public static SSLContext server(Path cert, Path key) {
        return context(keyManagers(cert, key), null);
    }

    /**
     * A client's context. {@code ca} null: the JVM's default trust store (public CAs).
     * {@code verify} false: any server certificate is taken (TLS encrypts, nothing is verified).
     * {@code cert} and {@code key} both null, or both set: the client certificate.
     */
    public static SSLContext client(Path ca, boolean verify, Path cert, Path key) {
        KeyManager[] keys = cert == null ? null : keyManagers(cert, key);
        TrustManager trust = verify ? verifying(ca) : new TrustingAll();
        return context(keys, new TrustManager[] {trust});
    }

    /**
     * The certificate refusal in a failed handshake's causes — for a context of this class, its words
     * naming the certificate and what it was checked against — or null when the handshake failed for
     * another reason.
     */
    public static CertificateException refusal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CertificateException c) {
                return c;
            }
        }
        return null;
    }

    /** Checks that {@code key} belongs to {@code cert}; throws {@link IllegalArgumentException} naming both files otherwise. */
    public static void checkPair(Path cert, Path key) {
        List<X509Certificate> chain = Pem.certificates(cert);
        PrivateKey k = Pem.privateKey(key);
        if (!Pem.belongTogether(chain.get(0), k)) {
            throw new IllegalArgumentException(key + " is not the private key of the certificate in " + cert);
        }
    }

    private static KeyManager[] keyManagers(Path cert, Path key) {
        List<X509Certificate> chain = Pem.certificates(cert);
        PrivateKey k = Pem.privateKey(key);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("pgrelay", k, new char[0], chain.toArray(new X509Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, new char[0]);
            return factory.getKeyManagers();
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot use the key in " + key + " with the certificate in " + cert
                    + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static X509TrustManager verifying(Path ca) {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (ca == null) {
                factory.init((KeyStore) null);
            } else {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                int i = 0;
                for (X509Certificate c : Pem.certificates(ca)) {
                    store.setCertificateEntry("ca-" + i++, c);
                }
                factory.init(store);
            }
            for (TrustManager t : factory.getTrustManagers()) {
                if (t instanceof X509ExtendedTrustManager x) {
                    return new Explaining(x, ca == null ? "the JVM's default trust store" : "the CA in " + ca);
                }
            }
            throw new IllegalStateException("no X.509 trust manager in this JVM");
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot build a trust store from " + ca + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static SSLContext context(KeyManager[] keys, TrustManager[] trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS is not available in this JVM: " + e.getMessage(), e);
        }
    }

    /** Says which certificate was refused, by whom and against which CA. */
    private static final class Explaining extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final String trusted;

        Explaining(X509ExtendedTrustManager delegate, String trusted) {
            this.delegate = delegate;
            this.trusted = trusted;
        }

        private CertificateException explain(X509Certificate[] chain, CertificateException e, String host) {
            if (chain == null || chain.length == 0) {
                return new CertificateException("the peer sent no certificate", e);
            }
            X509Certificate leaf = chain[0];
            String message = e.getMessage() == null ? "" : e.getMessage();
            String why;
            if (message.contains("PKIX path")) {
                why = "is not signed by " + trusted;
            } else if (host != null && (message.startsWith("No subject alternative") || message.startsWith("No name matching"))) {
                why = "is for " + names(leaf) + ", not " + host + " (the host name is checked)";
            } else {
                why = "was refused checking it against " + trusted + ": " + message;
            }
            return new CertificateException("certificate " + leaf.getSubjectX500Principal().getName() + " (issued by "
                    + leaf.getIssuerX500Principal().getName() + ") " + why, e);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                String host = socket instanceof SSLSocket tls && tls.getHandshakeSession() != null
                        ? tls.getHandshakeSession().getPeerHost() : null;
                throw explain(chain, e, host);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw explain(chain, e, engine.getPeerHost());
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw explain(chain, e, null);
            }
        }

        /** The DNS names and IP addresses of a certificate's subjectAltName, as "[a, b]"; "no names" without one. */
        private static String names(X509Certificate leaf) {
            try {
                Collection<List<?>> names = leaf.getSubjectAlternativeNames();
                return names == null ? "no names" : names.stream().map(n -> String.valueOf(n.get(1))).toList().toString();
            } catch (CertificateParsingException e) {
                return "names it cannot say (" + e.getMessage() + ")";
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    /** For {@code require}: encrypted, and the server is whoever answers (pgjdbc's NonValidatingFactory does the same). */
    private static final class TrustingAll extends X509ExtendedTrustManager {
        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("a client does not check client certificates");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("a client does not check client certificates");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client does not check client certificates");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
