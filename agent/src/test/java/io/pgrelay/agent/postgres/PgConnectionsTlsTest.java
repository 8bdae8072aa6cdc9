package io.pgrelay.agent.postgres;

import io.pgrelay.common.tls.PemSslFactory;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.config.PostgresTls;
import io.pgrelay.agent.config.Secret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@code postgres.tls} as pgjdbc settings, the same on plain and replication connections. */
class PgConnectionsTlsTest {

    private static PgConnections with(PostgresTls tls, String url) {
        return new PgConnections(new PostgresConfig(url, "bob", Secret.of("pw"), "s", "p", List.of(), Duration.ofSeconds(1),
                Duration.ofSeconds(2), tls), "a1");
    }

    @Test
    void verifyFullSetsModeFactoryAndFilesOnEveryKindOfConnection() {
        PostgresTls tls = new PostgresTls(PostgresTls.Mode.VERIFY_FULL, Path.of("/tls/ca.pem"), Path.of("/tls/c.pem"), Path.of("/tls/k.pem"));
        PgConnections connections = with(tls, "jdbc:postgresql://db:5432/app");
        for (Properties p : List.of(connections.properties(false), connections.properties(true))) {
            assertThat(p.getProperty("sslmode")).isEqualTo("verify-full");
            assertThat(p.getProperty("sslfactory")).isEqualTo(PemSslFactory.class.getName());
            assertThat(p.getProperty("sslrootcert")).isEqualTo("/tls/ca.pem");
            assertThat(p.getProperty("sslcert")).isEqualTo("/tls/c.pem");
            assertThat(p.getProperty("sslkey")).isEqualTo("/tls/k.pem");
        }
        assertThat(connections.unverifiedServerWarning()).isNull();
    }

    @Test
    void disableSetsOnlyTheMode() {
        Properties p = with(new PostgresTls(PostgresTls.Mode.DISABLE, null, null, null), "jdbc:postgresql://db/app").properties(true);
        assertThat(p.getProperty("sslmode")).isEqualTo("disable");
        assertThat(p.getProperty("sslfactory")).isNull();
    }

    @Test
    void withoutPostgresTlsNothingIsSetAndTheWarningSaysSo() {
        PgConnections connections = with(PostgresTls.NOT_SET, "jdbc:postgresql://db/app");
        assertThat(connections.properties(false).stringPropertyNames()).noneMatch(k -> k.startsWith("ssl"));
        assertThat(connections.unverifiedServerWarning()).startsWith("postgres.tls is not set, so pgjdbc's sslmode (prefer) applies");
        assertThat(with(PostgresTls.NOT_SET, "jdbc:postgresql://db/app?sslmode=verify-full&sslrootcert=/ca.pem")
                .unverifiedServerWarning()).isNull();
        assertThat(with(PostgresTls.NOT_SET, "jdbc:postgresql://db/app?sslmode=require").unverifiedServerWarning())
                .startsWith("postgres.tls is not set, so pgjdbc's sslmode require applies: the server's certificate is not checked;");
    }
}
