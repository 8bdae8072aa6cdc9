package io.pgrelay.agent.config;

import io.pgrelay.agent.config.AgentConfig.Tokens;
import io.pgrelay.agent.config.ConfigNode.Entry;
import io.pgrelay.common.tls.Pem;
import io.pgrelay.common.tls.TlsContexts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import org.postgresql.Driver;

/**
 * Reads the security keys: {@code postgres.tls}, {@code coordination.zookeeper.tls},
 * {@code agent.tls}, {@code agent.tokens} and {@code agent.protectReads}. Certificate and key files are read and parsed here, once, so that a
 * missing file, a file that is not PEM or a key that does not belong to its certificate is a
 * configuration error naming the key and the file, not a failed connection later. No problem
 * message quotes a token or a file's content.
 */
final class SecuritySections {

    /** pgjdbc URL parameters that {@code postgres.tls} sets; pgjdbc lets the URL win, so both at once is refused. */
    private static final List<String> URL_TLS_PARAMETERS =
            List.of("ssl", "sslmode", "sslfactory", "sslrootcert", "sslcert", "sslkey", "sslhostnameverifier");

    private SecuritySections() {
    }

    static PostgresTls postgresTls(ConfigNode postgres, String url) {
        if (!postgres.has("tls")) {
            postgres.section("tls"); // marks the key known
            return PostgresTls.NOT_SET;
        }
        ConfigNode s = postgres.section("tls");
        String mode = s.string("mode").orElse(PostgresTls.DEFAULT_MODE.text());
        PostgresTls.Mode parsed = null;
        for (PostgresTls.Mode m : PostgresTls.Mode.values()) {
            if (m.text().equals(mode.strip().toLowerCase(Locale.ROOT))) {
                parsed = m;
            }
        }
        if (parsed == null) {
            s.problem("mode", "'" + mode + "' is not one of disable, require, verify-ca, verify-full");
            parsed = PostgresTls.DEFAULT_MODE;
        }
        Path ca = file(s, "ca");
        Path cert = file(s, "cert");
        Path key = file(s, "key");
        if (ca != null && !parsed.verifies()) {
            s.problem("ca", "not used with mode " + parsed.text() + ", which does not check the server's certificate;"
                    + " set mode verify-full (or verify-ca), or remove ca");
        }
        if ((cert != null || key != null) && parsed == PostgresTls.Mode.DISABLE) {
            s.problem(cert != null ? "cert" : "key", "not used with mode disable (no TLS, so no client certificate)");
        }
        checkCertificates(s, ca, cert, key);
        if (url != null) {
            Properties fromUrl = Driver.parseURL(url, new Properties());
            if (fromUrl != null) {
                for (String name : URL_TLS_PARAMETERS) {
                    if (fromUrl.getProperty(name) != null) {
                        postgres.problem("url", "sets " + name + ", and so does postgres.tls; remove " + name
                                + " from the URL (pgjdbc would let the URL win)");
                        break;
                    }
                }
            }
        }
        s.reportUnknownKeys();
        return new PostgresTls(parsed, ca, cert, key);
    }

    /**
     * {@code coordination.zookeeper.tls}: the CA file (required), or null without the section. A
     * client certificate is refused by name: ZooKeeper's PEM key store takes the certificate and
     * its key from one file, which pgrelay would have to write, key included.
     */
    static Path zookeeperTls(ConfigNode zookeeper) {
        if (!zookeeper.has("tls")) {
            zookeeper.section("tls");
            return null;
        }
        ConfigNode s = zookeeper.section("tls");
        Path ca = file(s, "ca");
        if (!s.has("ca")) {
            s.problem("ca", "required: the CA (PEM) that signed the ZooKeeper servers' certificates");
        }
        checkCertificates(s, ca, null, null);
        for (String key : List.of("cert", "key")) {
            if (s.has(key)) {
                s.string(key);
                s.problem(key, "a client certificate to ZooKeeper is not supported; remove it (the agents log in with"
                        + " coordination.zookeeper.auth)");
            }
        }
        s.reportUnknownKeys();
        return ca;
    }

    /**
     * {@code kafka.schemaRegistry.tls} {@code {ca, cert, key}}: all optional, for an
     * {@code https://} URL only; without it an https registry is trusted through the JVM's trust store.
     */
    static FormatConfig.SchemaRegistry.Tls registryTls(ConfigNode registry, String url) {
        if (!registry.has("tls")) {
            registry.section("tls");
            return FormatConfig.SchemaRegistry.Tls.NONE;
        }
        ConfigNode s = registry.section("tls");
        Path ca = file(s, "ca");
        Path cert = file(s, "cert");
        Path key = file(s, "key");
        if (url != null && !url.regionMatches(true, 0, "https://", 0, "https://".length())) {
            registry.problem("tls", "set for " + Masking.url(url) + ", which is not an https:// URL;"
                    + " use https:// or remove tls");
        }
        checkCertificates(s, ca, cert, key);
        s.reportUnknownKeys();
        return new FormatConfig.SchemaRegistry.Tls(ca, cert, key);
    }

    static HttpTls httpTls(ConfigNode agent) {
        if (!agent.has("tls")) {
            agent.section("tls");
            return HttpTls.NONE;
        }
        ConfigNode s = agent.section("tls");
        Path cert = file(s, "cert");
        Path key = file(s, "key");
        if (!s.has("cert")) {
            s.problem("cert", "required: the certificate (PEM) the HTTPS listener presents");
        }
        if (!s.has("key")) {
            s.problem("key", "required: the private key (PEM) of agent.tls.cert");
        }
        checkPair(s, cert, key);
        s.reportUnknownKeys();
        return cert == null || key == null ? HttpTls.NONE : new HttpTls(cert, key);
    }

    static Tokens tokens(ConfigNode agent, Secret adminToken) {
        ConfigNode s = agent.section("tokens");
        List<Secret> admin = secrets(s, "admin");
        List<Secret> read = secrets(s, "read");
        s.reportUnknownKeys();
        Set<Secret> admins = new HashSet<>(admin);
        if (!adminToken.isEmpty()) {
            admins.add(adminToken);
        }
        for (int i = 0; i < read.size(); i++) {
            if (admins.contains(read.get(i))) {
                s.problem("read[" + i + "]", "is also an admin token; a token has one scope");
            }
        }
        return new Tokens(admin, read);
    }

    static boolean protectReads(ConfigNode agent, Secret adminToken, Tokens tokens) {
        boolean protect = agent.bool("protectReads", false);
        if (protect && adminToken.isEmpty() && tokens.admin().isEmpty() && tokens.read().isEmpty()) {
            agent.problem("protectReads", "true, but no token could read: set agent.tokens.read (or agent.tokens.admin)");
        }
        if (!protect && !tokens.read().isEmpty()) {
            agent.problemAtPath(agent.pathOf("tokens.read"), "read tokens are asked for only with agent.protectReads: true;"
                    + " set it, or remove them (without it /status, /stats and /metrics are open)");
        }
        return protect;
    }

    private static List<Secret> secrets(ConfigNode s, String key) {
        List<Secret> out = new ArrayList<>();
        for (Entry e : s.stringList(key)) {
            Secret secret = Secret.of(e.value().strip());
            if (out.contains(secret)) {
                s.problemAtPath(e.path(), "the same token is listed twice");
            } else {
                out.add(secret);
            }
        }
        return out;
    }

    /** A PEM file's path, or null (absent, or reported). */
    static Path file(ConfigNode s, String key) {
        return s.string(key).map(v -> Path.of(v.strip())).orElse(null);
    }

    static void checkCertificates(ConfigNode s, Path ca, Path cert, Path key) {
        if (ca != null) {
            try {
                Pem.certificates(ca);
            } catch (IllegalArgumentException e) {
                s.problem("ca", e.getMessage());
            }
        }
        if (cert != null && key == null) {
            s.problem("key", "required with " + s.pathOf("cert") + ": the client certificate's private key (PEM)");
        } else if (key != null && cert == null) {
            s.problem("cert", "required with " + s.pathOf("key") + ": the client certificate (PEM) of that key");
        }
        checkPair(s, cert, key);
    }

    /** Each file alone first, so that the problem names the right key; then whether they belong together. */
    private static void checkPair(ConfigNode s, Path cert, Path key) {
        boolean ok = true;
        if (cert != null) {
            try {
                Pem.certificates(cert);
            } catch (IllegalArgumentException e) {
                s.problem("cert", e.getMessage());
                ok = false;
            }
        }
        if (key != null) {
            try {
                Pem.privateKey(key);
            } catch (IllegalArgumentException e) {
                s.problem("key", e.getMessage());
                ok = false;
            }
        }
        if (ok && cert != null && key != null) {
            try {
                TlsContexts.checkPair(cert, key);
            } catch (IllegalArgumentException e) {
                s.problem("key", e.getMessage());
            }
        }
    }
}
