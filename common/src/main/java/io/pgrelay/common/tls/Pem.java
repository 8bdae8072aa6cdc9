package io.pgrelay.common.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys from PEM files, with the JDK alone (it has no PEM API). Keys:
 * unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}; RSA, EC, Ed25519) and PKCS#1 RSA
 * ({@code BEGIN RSA PRIVATE KEY}). Other forms are refused with the {@code openssl} command that
 * converts them. Every message names the file and never quotes what is in it.
 */
public final class Pem {

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final String TO_PKCS8 = "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem";
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d,
        0x01, 0x01, 0x01, 0x05, 0x00}; // AlgorithmIdentifier { rsaEncryption, NULL }

    private Pem() {
    }

    /** The certificates of a PEM file, in order (a chain: the leaf first); at least one. */
    public static List<X509Certificate> certificates(Path file) {
        String text = read(file);
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            Matcher m = BLOCK.matcher(text);
            while (m.find()) {
                if (m.group(1).equals("CERTIFICATE")) {
                    Certificate c = factory.generateCertificate(new ByteArrayInputStream(decode(file, m.group(2))));
                    out.add((X509Certificate) c);
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException(file + ": not a valid X.509 certificate (" + e.getMessage() + ")");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)");
        }
        return out;
    }

    /** The private key of a PEM file. */
    public static PrivateKey privateKey(Path file) {
        String text = read(file);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            switch (type) {
                case "PRIVATE KEY" -> {
                    return pkcs8(file, decode(file, m.group(2)));
                }
                case "RSA PRIVATE KEY" -> {
                    if (m.group(2).contains("ENCRYPTED")) {
                        throw new IllegalArgumentException(file + ": the key is encrypted; pgrelay takes an unencrypted key"
                                + " (protect the file instead: mode 0600, or a Kubernetes secret); " + TO_PKCS8);
                    }
                    return pkcs8(file, wrapPkcs1(decode(file, m.group(2))));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(file + ": the key is encrypted; pgrelay takes"
                        + " an unencrypted key (protect the file instead: mode 0600, or a Kubernetes secret); " + TO_PKCS8);
                case "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY" -> throw new IllegalArgumentException(file
                        + ": a '" + type + "' key is not read; " + TO_PKCS8);
                default -> {
                    // a certificate before the key, or parameters: look further
                }
            }
        }
        throw new IllegalArgumentException(file + ": no PEM private key in it (expected -----BEGIN PRIVATE KEY-----)");
    }

    /**
     * Whether {@code key} is the private half of {@code certificate}'s public key: a signature made
     * with one is checked with the other, which works alike for RSA, EC and EdDSA.
     */
    public static boolean belongTogether(X509Certificate certificate, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448, EdDSA
        };
        try {
            byte[] data = new byte[32];
            new SecureRandom().nextBytes(data);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(data);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(data);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static PrivateKey pkcs8(Path file, byte[] der) {
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this algorithm; try the next
            }
        }
        throw new IllegalArgumentException(file + ": the private key is not an RSA, EC or EdDSA key this JVM can read");
    }

    /** PKCS#1 {@code RSAPrivateKey} → PKCS#8 {@code PrivateKeyInfo { 0, rsaEncryption, OCTET STRING pkcs1 }}. */
    private static byte[] wrapPkcs1(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM);
        body.writeBytes(tagged(0x04, pkcs1));
        return tagged(0x30, body.toByteArray());
    }

    private static byte[] tagged(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] decode(Path file, String base64) {
        // PKCS#1 encrypted keys carry headers ("Proc-Type: …") before the base64: not decodable, refused above
        try {
            return Base64.getMimeDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": a PEM block is not valid base64");
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not a PEM file (binary content; DER files are not read, convert with openssl)");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        }
    }
}
