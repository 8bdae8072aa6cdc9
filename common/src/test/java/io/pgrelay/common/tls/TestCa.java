package io.pgrelay.common.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made at test time (BouncyCastle), valid for a day: no certificate is
 * checked in to expire. It writes PEM files into a directory of its own — the CA's certificate,
 * and for each certificate it issues the certificate and its unencrypted PKCS#8 key (mode 0600,
 * which PostgreSQL asks of a server key) — and {@link #close()} deletes them.
 *
 * <p>Test code, in common's test jar: the agent's unit tests use it (test scope) and so do the
 * sandbox's TLS servers (compile scope); no production jar holds it.
 */
public final class TestCa implements AutoCloseable {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A certificate and its key, PEM files. */
    public record Issued(Path cert, Path key) {
    }

    private final String name;
    private final Path dir;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final Path certFile;

    private TestCa(String name, Path dir, KeyPair keys, X509Certificate certificate, Path certFile) {
        this.name = name;
        this.dir = dir;
        this.keys = keys;
        this.certificate = certificate;
        this.certFile = certFile;
    }

    /** A new CA named {@code CN=<name>}, in a new temporary directory. */
    public static TestCa create(String name) throws IOException {
        Path dir = Files.createTempDirectory("pgrelay-pki-");
        try {
            KeyPair keys = ecKeys();
            X500Name subject = new X500Name("CN=" + name);
            JcaX509v3CertificateBuilder b = builder(subject, subject, keys);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate cert = sign(b, keys);
            Path file = dir.resolve(name + "-ca.pem");
            Files.writeString(file, pem("CERTIFICATE", cert.getEncoded()));
            return new TestCa(name, dir, keys, cert, file);
        } catch (GeneralSecurityException | RuntimeException e) {
            deleteRecursively(dir);
            throw new IOException("cannot make test CA " + name + ": " + e, e);
        }
    }

    /** The CA's certificate (PEM): what a client trusts. */
    public Path certificate() {
        return certFile;
    }

    /** The directory of this CA's files (a test may write more there; {@link #close()} removes them). */
    public Path directory() {
        return dir;
    }

    /** A server certificate for {@code names} (DNS names, or IP addresses such as 127.0.0.1). */
    public Issued server(String stem, String commonName, String... names) throws IOException {
        return issue(stem, commonName, KeyPurposeId.id_kp_serverAuth, names);
    }

    /** A client certificate with {@code CN=<commonName>} (PostgreSQL's {@code cert} auth maps it to the role of that name). */
    public Issued client(String stem, String commonName) throws IOException {
        return issue(stem, commonName, KeyPurposeId.id_kp_clientAuth);
    }

    private Issued issue(String stem, String commonName, KeyPurposeId purpose, String... names) throws IOException {
        try {
            KeyPair leaf = ecKeys();
            JcaX509v3CertificateBuilder b = builder(new X500Name("CN=" + name), new X500Name("CN=" + commonName), leaf);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            b.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(certificate));
            if (names.length > 0) {
                List<GeneralName> san = new ArrayList<>();
                for (String n : names) {
                    boolean ip = n.matches("[0-9.]+") || n.contains(":");
                    san.add(ip ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(n).getHostAddress())
                            : new GeneralName(GeneralName.dNSName, n));
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san.toArray(new GeneralName[0])));
            }
            X509Certificate cert = sign(b, keys);
            Path certPath = dir.resolve(stem + ".crt.pem");
            Path keyPath = dir.resolve(stem + ".key.pem");
            Files.writeString(certPath, pem("CERTIFICATE", cert.getEncoded()));
            Files.writeString(keyPath, pem("PRIVATE KEY", leaf.getPrivate().getEncoded()));
            Files.setPosixFilePermissions(keyPath, PosixFilePermissions.fromString("rw-------"));
            return new Issued(certPath, keyPath);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot issue " + stem + " from test CA " + name + ": " + e, e);
        }
    }

    private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** Deletes the CA's files; closing again does nothing. */
    @Override
    public void close() {
        deleteRecursively(dir);
    }

    /** As the sandbox's {@code Directories.deleteRecursively}, which this test jar cannot reach. */
    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not remove " + dir, e);
        }
    }
}
