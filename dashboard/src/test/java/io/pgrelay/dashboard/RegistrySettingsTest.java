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
}
