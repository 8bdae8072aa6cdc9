package io.pgrelay.agent.config;

import java.nio.file.Path;

/**
 * {@code agent.tls}: the certificate (chain, leaf first) and private key, PEM, that make the agent's
 * HTTP listener HTTPS. {@link #NONE} (both null): plain HTTP, for loopback and development.
 */
public record HttpTls(Path cert, Path key) {

    public static final HttpTls NONE = new HttpTls(null, null);

    public boolean enabled() {
        return cert != null;
    }
}
