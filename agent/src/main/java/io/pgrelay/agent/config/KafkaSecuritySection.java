package io.pgrelay.agent.config;

import io.pgrelay.agent.config.ConfigNode.Entry;
import io.pgrelay.agent.config.KafkaSecurity.Mechanism;
import io.pgrelay.agent.config.KafkaSecurity.Protocol;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code kafka.security} and guards the {@code kafka.producer} passthrough: settings that
 * would weaken what pgrelay's exactly-once rests on, and security settings that
 * {@code kafka.security} already makes, are configuration errors rather than silently replaced.
 */
final class KafkaSecuritySection {

    private KafkaSecuritySection() {
    }

    static KafkaSecurity read(ConfigNode kafka) {
        if (!kafka.has("security")) {
            kafka.section("security"); // marks the key known
            return KafkaSecurity.NOT_SET;
        }
        ConfigNode s = kafka.section("security");
        Protocol protocol = null;
        String text = s.requiredString("protocol");
        if (text != null) {
            try {
                protocol = Protocol.valueOf(text.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                s.problem("protocol", "'" + text + "' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
            }
        }
        Mechanism mechanism = null;
        String username = null;
        Secret password = Secret.EMPTY;
        if (s.has("sasl")) {
            ConfigNode sasl = s.section("sasl");
            String m = sasl.requiredString("mechanism");
            if (m != null) {
                mechanism = Mechanism.parse(m);
                if (mechanism == null) {
                    sasl.problem("mechanism", "'" + m + "' is not one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN");
                }
            }
            username = sasl.requiredString("username");
            password = sasl.secret("password");
            if (password.isEmpty()) {
                sasl.problem("password", "required: the SASL password of " + (username == null ? "the user" : username));
            }
            sasl.reportUnknownKeys();
            if (protocol != null && !protocol.sasl()) {
                s.problem("sasl", "not used with protocol " + protocol + "; use SASL_SSL (or SASL_PLAINTEXT), or remove sasl");
            }
        } else {
            s.section("sasl");
            if (protocol != null && protocol.sasl()) {
                s.problem("sasl", "required with protocol " + protocol + ": { mechanism, username, password }");
            }
        }
        Path ca = null;
        Path cert = null;
        Path key = null;
        if (s.has("tls")) {
            ConfigNode tls = s.section("tls");
            ca = SecuritySections.file(tls, "ca");
            cert = SecuritySections.file(tls, "cert");
            key = SecuritySections.file(tls, "key");
            SecuritySections.checkCertificates(tls, ca, cert, key);
            tls.reportUnknownKeys();
            if (protocol != null && !protocol.tls()) {
                s.problem("tls", "not used with protocol " + protocol + ", which does not encrypt; use SSL or SASL_SSL, or remove tls");
            }
        } else {
            s.section("tls");
        }
        s.reportUnknownKeys();
        if (protocol == null) {
            return KafkaSecurity.NOT_SET;
        }
        return new KafkaSecurity(protocol, protocol.sasl() ? mechanism : null, protocol.sasl() ? username : null,
                protocol.sasl() ? password : Secret.EMPTY, ca, cert, key);
    }

    /**
     * A problem message for a {@code kafka.producer} setting pgrelay cannot take, or null. With
     * {@code security} configured, the security settings are its alone.
     */
    static String refused(String key, String value, boolean securityConfigured) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        switch (key) {
            case "bootstrap.servers":
                return "set by pgrelay; use kafka.bootstrapServers";
            case "transactional.id", "key.serializer", "value.serializer":
                return "set by pgrelay; remove it";
            case "acks":
                return v.equals("all") || v.equals("-1") ? null
                        : "'" + value + "' would weaken the guarantees: a record is committed only once every in-sync replica has it"
                        + " (acks=all, which pgrelay sets); remove it";
            case "enable.idempotence":
                return v.equals("true") ? null
                        : "'" + value + "' would weaken the guarantees: pgrelay's transactional producer is idempotent; remove it";
            case "retries":
                return v.equals("0") ? "'0' would weaken the guarantees: the idempotent producer retries; remove it" : null;
            case "max.in.flight.requests.per.connection":
                return v.matches("[1-5]") ? null
                        : "'" + value + "' would weaken the guarantees: the idempotent producer keeps order with at most 5; remove it";
            default:
                break;
        }
        if (securityConfigured && isSecuritySetting(key)) {
            return "a security setting, and kafka.security is set: say it there (protocol, sasl, tls), or remove it";
        }
        return null;
    }

    private static boolean isSecuritySetting(String key) {
        return key.equals("security.protocol") || key.startsWith("ssl.") || key.startsWith("sasl.");
    }

    /** Reports every refused producer setting; returns the ones to keep. */
    static void check(ConfigNode kafka, Map<String, Entry> producer, boolean securityConfigured, Map<String, String> keep) {
        producer.forEach((k, e) -> {
            String refusal = refused(k, e.value(), securityConfigured);
            if (refusal != null) {
                kafka.problemAtPath(e.path(), refusal);
            } else if (k.equals("transaction.timeout.ms") && !e.value().trim().matches("[1-9][0-9]{0,9}")) {
                kafka.problemAtPath(e.path(), "'" + e.value() + "' is not a number of milliseconds");
            } else {
                keep.put(k, e.value());
            }
        });
    }
}
