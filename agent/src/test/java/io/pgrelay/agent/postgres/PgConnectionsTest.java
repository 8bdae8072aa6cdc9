package io.pgrelay.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.config.Secret;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

class PgConnectionsTest {

    private final EmbeddedPostgres pg = TestPostgres.logical();

    @Test
    void replicationConnectionRendersInUtcEvenWhenTheJvmIsNot() throws Exception {
        PgConnections connections = new PgConnections(TestPostgres.config(pg, "postgres", "postgres", "s", "p", List.of()), "a-1");
        TimeZone jvm = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("Asia/Tokyo")); // pgjdbc sends this as its TimeZone startup parameter
        try (Connection c = connections.openReplication()) {
            assertThat(c.unwrap(PGConnection.class).getReplicationAPI()).isNotNull();
            assertThat(settings(c)).containsExactly(
                    Map.entry("TimeZone", "UTC"), Map.entry("DateStyle", "ISO, YMD"), Map.entry("IntervalStyle", "postgres"),
                    Map.entry("bytea_output", "hex"), Map.entry("application_name", "pgrelay-a-1"));
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT '2026-11-22 10:15:30+09'::timestamptz::text, '1 day 2 hours'::interval::text")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("2026-11-22 01:15:30+00");
                assertThat(rs.getString(2)).isEqualTo("1 day 02:00:00");
            }
        } finally {
            TimeZone.setDefault(jvm);
        }
    }

    @Test
    void plainConnectionHasTheSameSettings() throws Exception {
        PgConnections connections = new PgConnections(TestPostgres.config(pg, "postgres", "postgres", "s", "p", List.of()), "a-1");
        try (Connection c = connections.open()) {
            assertThat(settings(c)).containsEntry("TimeZone", "UTC").containsEntry("IntervalStyle", "postgres");
        }
    }

    @Test
    void pooledConnectionsGiveUpOnASilentServerAfterConnectTimeoutAndOthersDoNot() throws Exception {
        PgConnections connections = new PgConnections(TestPostgres.config(pg, "postgres", "postgres", "s", "p", List.of()), "a-1");
        try {
            long connectTimeout = 5_000;   // TestPostgres.config
            try (Connection c = connections.borrow()) {
                assertThat(c.getNetworkTimeout()).as("socket timeout of a pooled connection, ms").isEqualTo((int) connectTimeout);
            }
            try (Connection c = connections.open()) {
                assertThat(c.getNetworkTimeout()).as("socket timeout of a connection for long work (snapshots), ms").isZero();
            }
        } finally {
            connections.close();
        }
    }

    @Test
    void pooledConnectionsHaveTheSameSettingsAndAreReused() throws Exception {
        PgConnections connections = new PgConnections(TestPostgres.config(pg, "postgres", "postgres", "s", "p", List.of()), "a-1");
        try {
            int first;
            try (Connection c = connections.borrow()) {
                assertThat(settings(c)).containsExactly(
                        Map.entry("TimeZone", "UTC"), Map.entry("DateStyle", "ISO, YMD"), Map.entry("IntervalStyle", "postgres"),
                        Map.entry("bytea_output", "hex"), Map.entry("application_name", "pgrelay-a-1"));
                first = c.unwrap(PGConnection.class).getBackendPID();
            }
            try (Connection c = connections.borrow()) {
                assertThat(c.unwrap(PGConnection.class).getBackendPID()).as("same session, no new login").isEqualTo(first);
            }
        } finally {
            connections.close();
        }
        assertThatThrownBy(connections::borrow).hasMessageContaining("shutting down");
    }

    @Test
    void unreachableServerThroughThePoolIsOneLineWithoutThePassword() {
        PostgresConfig cfg = new PostgresConfig("jdbc:postgresql://127.0.0.1:1/app?password=inurl", "bob", Secret.of("hunter2"),
                "s", "p", List.of(), Duration.ofSeconds(1), Duration.ofSeconds(2));
        PgConnections connections = new PgConnections(cfg, "a");
        try {
            assertThatThrownBy(connections::borrow)
                    .isInstanceOf(java.sql.SQLException.class)
                    .hasMessageStartingWith("postgres: cannot connect to jdbc:postgresql://127.0.0.1:1/app?password=**** as bob: ")
                    .hasMessageNotContaining("hunter2").hasMessageNotContaining("inurl")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        } finally {
            connections.close();
        }
    }

    @Test
    void unreachableServerIsOneLineWithoutThePassword() {
        PostgresConfig cfg = new PostgresConfig("jdbc:postgresql://127.0.0.1:1/app?password=inurl", "bob", Secret.of("hunter2"),
                "s", "p", List.of(), Duration.ofSeconds(1), Duration.ofSeconds(2));

        assertThatThrownBy(() -> new PgConnections(cfg, "a").open())
                .isInstanceOf(PgConnectException.class)
                .hasMessageStartingWith("postgres: cannot connect to jdbc:postgresql://127.0.0.1:1/app?password=**** as bob: ")
                .hasMessageNotContaining("hunter2").hasMessageNotContaining("inurl")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void wrongPasswordIsOneLineWithoutThePassword() throws Exception {
        String role = TestPostgres.uniqueName("pw");
        TestPostgres.superuserSql(pg, "postgres", "CREATE ROLE " + role + " LOGIN PASSWORD 'right-one'");
        // the embedded server trusts every local login; ask this one role for its password
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW hba_file")) {
            rs.next();
            java.nio.file.Path hba = java.nio.file.Path.of(rs.getString(1));
            java.nio.file.Files.writeString(hba, "host all " + role + " 0.0.0.0/0 scram-sha-256\nhost all " + role
                    + " ::/0 scram-sha-256\n" + java.nio.file.Files.readString(hba));
            s.execute("SELECT pg_reload_conf()");
        }
        PostgresConfig cfg = new PostgresConfig(TestPostgres.url(pg, "postgres"), role, Secret.of("wrong-one"), "s", "p",
                List.of(), Duration.ofSeconds(1), Duration.ofSeconds(2));

        assertThatThrownBy(() -> new PgConnections(cfg, "a").open())
                .isInstanceOf(PgConnectException.class)
                .hasMessage("postgres: cannot connect to " + TestPostgres.url(pg, "postgres") + " as " + role
                        + ": FATAL: password authentication failed for user \"" + role + "\"")
                .extracting(e -> ((PgConnectException) e).sqlState()).isEqualTo("28P01");
        try (Connection c = new PgConnections(new PostgresConfig(cfg.url(), role, Secret.of("right-one"), "s", "p", List.of(),
                Duration.ofSeconds(1), Duration.ofSeconds(2)), "a").open()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    static Map<String, String> settings(Connection c) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement()) {
            for (String name : List.of("TimeZone", "DateStyle", "IntervalStyle", "bytea_output", "application_name")) {
                try (ResultSet rs = s.executeQuery("SHOW " + name)) {
                    rs.next();
                    out.put(name, rs.getString(1));
                }
            }
        }
        return out;
    }
}
