package io.pgrelay.agent.config;

import io.pgrelay.common.tls.Pem;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code kafka.security} section: how every Kafka client of the agent (the transactional
 * producer, the checkpoint and schema readers, the admin clients) authenticates and encrypts.
 *
 * @param protocol  kafka-clients' {@code security.protocol}; {@code null} when the section is absent
 *                  (then nothing is set and {@code kafka.producer} passthrough settings apply as before)
 * @param mechanism the SASL mechanism with {@code SASL_PLAINTEXT} and {@code SASL_SSL}, else null
 * @param username  the SASL user, else null
 * @param password  the SASL password
 * @param ca        the CA (PEM) that signed the brokers' certificates; null: the JVM's trust store
 * @param cert      a client certificate (PEM), for brokers with {@code ssl.client.auth=required}
 * @param key       its private key (unencrypted PKCS#8 or PKCS#1 RSA, PEM)
 */
public record KafkaSecurity(Protocol protocol, Mechanism mechanism, String username, Secret password,
                            Path ca, Path cert, Path key) {

    public static final KafkaSecurity NOT_SET = new KafkaSecurity(null, null, null, Secret.EMPTY, null, null, null);

    public enum Protocol {
        PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL;

        public boolean sasl() {
            return this == SASL_PLAINTEXT || this == SASL_SSL;
        }

        public boolean tls() {
            return this == SSL || this == SASL_SSL;
        }
    }

    public enum Mechanism {
        SCRAM_SHA_512("org.apache.kafka.common.security.scram.ScramLoginModule"),
        SCRAM_SHA_256("org.apache.kafka.common.security.scram.ScramLoginModule"),
        PLAIN("org.apache.kafka.common.security.plain.PlainLoginModule");

        private final String loginModule;

        Mechanism(String loginModule) {
            this.loginModule = loginModule;
        }

        /** As Kafka and the YAML write it: {@code SCRAM-SHA-512}. */
        public String text() {
            return name().replace('_', '-');
        }

        static Mechanism parse(String text) {
            for (Mechanism m : values()) {
                if (m.text().equals(text.strip().toUpperCase(Locale.ROOT))) {
                    return m;
                }
            }
            return null;
        }
    }

    public boolean configured() {
        return protocol != null;
    }

    /**
     * The kafka-clients settings this section stands for, the same for every client. Certificates
     * go inline as PEM ({@code ssl.truststore.type=PEM}), the key re-encoded as unencrypted PKCS#8:
     * Kafka's PEM key store reads only PKCS#8, and without {@code ssl.key.password} an unencrypted one.
     * The map holds the SASL password and the private key: hand it to a client, never to a logger.
     */
    public Map<String, Object> clientSettings() {
        Map<String, Object> p = new LinkedHashMap<>();
        if (protocol == null) {
            return p;
        }
        p.put("security.protocol", protocol.name());
        if (protocol.tls()) {
            if (ca != null) {
                p.put("ssl.truststore.type", "PEM");
                p.put("ssl.truststore.location", ca.toString());
            }
            if (cert != null && key != null) {
                p.put("ssl.keystore.type", "PEM");
                StringBuilder chain = new StringBuilder();
                Pem.certificates(cert).forEach(c -> chain.append(pem("CERTIFICATE", encoded(c))));
                p.put("ssl.keystore.certificate.chain", chain.toString());
                PrivateKey k = Pem.privateKey(key);
                p.put("ssl.keystore.key", pem("PRIVATE KEY", k.getEncoded()));
            }
        }
        if (protocol.sasl()) {
            p.put("sasl.mechanism", mechanism.text());
            p.put("sasl.jaas.config", mechanism.loginModule + " required username=\"" + jaasQuoted(username)
                    + "\" password=\"" + jaasQuoted(password.reveal()) + "\";");
        }
        return p;
    }

    private static byte[] encoded(java.security.cert.X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode certificate " + c.getSubjectX500Principal(), e);
        }
    }

    /** Kafka's JAAS parser reads a quoted value up to the next unescaped quote; a backslash escapes. */
    static String jaasQuoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    @Override
    public String toString() {
        return "KafkaSecurity[protocol=" + protocol + ", mechanism=" + mechanism + ", username=" + username + ", password="
                + password + ", ca=" + ca + ", cert=" + cert + ", key=" + key + "]";
    }
}
