package io.pgrelay.dashboard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegistrySettingsTest {

    @TempDir
    Path dir;

    private RegistrySettings read(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("pgrelay.yaml");
        Files.writeString(file, yaml);
        return RegistrySettings.read(file, env::get);
    }

    @Test
    void agentConfigGivesClusterAndPostgresRegistryWithEnvironmentSubstituted() throws Exception {
        RegistrySettings s = read("""
                cluster: shop
                agent: { id: ${HOSTNAME}, adminToken: ${TOKEN:-} }
                postgres:
                  url: jdbc:postgresql://${PGHOST:-127.0.0.1}:5432/shop?sslmode=disable
                  user: replicator
                  password: ${PGPASS}
                kafka: { bootstrapServers: 127.0.0.1:9092 }
                coordination: { pollInterval: 250ms }
                """, Map.of("PGPASS", "hunter2"));
        assertThat(s.cluster()).isEqualTo("shop");
        assertThat(s.mode()).isEqualTo("slot");
        assertThat(s.postgresUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/shop?sslmode=disable");
        assertThat(s.postgresPassword()).isEqualTo("hunter2");
        assertThat(s.pollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(s.toString()).doesNotContain("hunter2").doesNotContain("sslmode").contains("shop");
    }

    @Test
    void zookeeperModeNeedsItsConnectString() throws Exception {
        RegistrySettings s = read("cluster: c\ncoordination: { mode: zookeeper, zookeeper: { connect: 'zk:2181' } }\n", Map.of());
        assertThat(s.zookeeperConnect()).isEqualTo("zk:2181");
        assertThatThrownBy(() -> read("cluster: c\ncoordination: { mode: zookeeper }\n", Map.of()))
                .hasMessage("coordination.zookeeper.connect: required in zookeeper mode");
    }

    @Test
    void everyProblemIsReportedOnItsOwnLine() {
        assertThatThrownBy(() -> read("coordination: { pollInterval: soon }\n", Map.of()))
                .hasMessage("""
                        cluster: required
                        coordination.pollInterval: 'soon' is not a duration like 500ms or 2s
                        postgres.url: required in slot mode, a jdbc:postgresql: URL (the member registry lives there)""");
    }

    @Test
    void anUnsetVariableIsAProblemOnlyInAKeyTheDashboardReads() throws Exception {
        RegistrySettings s = read("cluster: c\nagent: { id: ${UNSET_HOSTNAME} }\npostgres: { url: 'jdbc:postgresql://h/db' }\n", Map.of());
        assertThat(s.cluster()).isEqualTo("c");
        assertThatThrownBy(() -> read("cluster: c\npostgres: { url: 'jdbc:postgresql://h/db', password: ${PGPASS} }\n", Map.of()))
                .hasMessage("postgres.password: environment variable PGPASS is not set (write ${PGPASS:-default} to give a default)");
    }

    @Test
    void zookeeperAuthAndTlsAreReadAsTheAgentsUseThem() throws Exception {
        Path ca = dir.resolve("zk-ca.pem");
        Files.writeString(ca, "-----BEGIN CERTIFICATE-----\n" + CA_BASE64 + "\n-----END CERTIFICATE-----\n");
        RegistrySettings s = read("""
                cluster: shop
                coordination:
                  mode: zookeeper
                  zookeeper:
                    connect: zk-1:2281
                    auth: { username: pgrelay, password: ${ZK_PASSWORD} }
                    tls: { ca: %s }
                """.formatted(ca), Map.of("ZK_PASSWORD", "zk-s3cret"));
        assertThat(s.zookeeperAuth().username()).isEqualTo("pgrelay");
        assertThat(s.zookeeperTls().ca()).isEqualTo(ca);
        assertThat(s.registryDescription()).isEqualTo("ZooKeeper zk-1:2281 /pgrelay/shop/members over TLS as pgrelay");
        assertThat(s.toString()).doesNotContain("zk-s3cret");
    }

    @Test
    void postgresTlsIsReadAsTheAgentsUseItForTheSlotModeRegistry() throws Exception {
        Path ca = Files.writeString(dir.resolve("pg-ca.pem"), "the CA, read by pgjdbc's connection");
        RegistrySettings s = read("""
                cluster: shop
                postgres:
                  url: jdbc:postgresql://db:5432/shop
                  user: replicator
                  tls: { ca: '%s' }
                """.formatted(ca), Map.of());
        assertThat(s.postgresTls()).isEqualTo(new RegistrySettings.PostgresTls("verify-full", ca, null, null));
        java.util.Properties p = new java.util.Properties();
        s.postgresTls().applyTo(p);
        assertThat(p).containsEntry("sslmode", "verify-full").containsEntry("sslrootcert", ca.toString())
                .containsEntry("sslfactory", "io.pgrelay.common.tls.PemSslFactory").doesNotContainKey("sslcert");
        assertThat(read("cluster: shop\npostgres: { url: 'jdbc:postgresql://db/shop' }\n", Map.of()).postgresTls()).isNull();
        assertThatThrownBy(() -> read("""
                cluster: shop
                postgres:
                  url: jdbc:postgresql://db:5432/shop
                  tls: { mode: verify, cert: '%s' }
                """.formatted(ca), Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("postgres.tls.mode: 'verify' is not one of disable, require, verify-ca, verify-full\n"
                        + "postgres.tls: cert and key go together: set both or neither");
    }

    @Test
    void aZookeeperCaThatCannotBeReadIsAProblem() {
        assertThatThrownBy(() -> read("""
                cluster: shop
                coordination: { mode: zookeeper, zookeeper: { connect: 'zk-1:2281', tls: { ca: /nonexistent/zk-ca.pem } } }
                """, Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coordination.zookeeper.tls.ca: /nonexistent/zk-ca.pem: no such file");
    }

    /** A self-signed certificate (CN=zk-test-ca, made with openssl req -x509), only parsed: its dates are never checked. */
    private static final String CA_BASE64 = "MIIBgTCCASegAwIBAgIUdbudlCV4q6QvsVDFqXNiuut3YTowCgYIKoZIzj0EAwIw" + "\n"
            + "FTETMBEGA1UEAwwKemstdGVzdC1jYTAgFw0yNjEyMDcwNjMzNDBaGA8yMTI2MTEx" + "\n"
            + "MzA2MzM0MFowFTETMBEGA1UEAwwKemstdGVzdC1jYTBZMBMGByqGSM49AgEGCCqG" + "\n"
            + "SM49AwEHA0IABFz2wDh7Z85q8KTeGbKDPvgVNuduG0jjuAEid4b+XsPm4pBvthoD" + "\n"
            + "osuAZ5n7UJ+/e+r/+gVu74cRCC6G7tgFiQajUzBRMB0GA1UdDgQWBBSnsSEw+94v" + "\n"
            + "y9Wal5A2US/FqByLmTAfBgNVHSMEGDAWgBSnsSEw+94vy9Wal5A2US/FqByLmTAP" + "\n"
            + "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIHVcIo/OuCXCpx89JJLS" + "\n"
            + "GzZbiXfDMH+p1THf5ffVHSekAiEAm+PLrHF2VKnLVlCXgBC38+ZvnaRwx6UQu77M" + "\n"
            + "8WbksyY=";
}
