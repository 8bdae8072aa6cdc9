package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.common.tls.TestCa;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.AgentProcess.CommandResult;
import io.pgrelay.sandbox.server.TlsPostgres;
import io.pgrelay.sandbox.server.TopicReader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code postgres.tls} against a PostgreSQL that takes TLS connections only ({@code hostssl}), with
 * SCRAM passwords and one role by client certificate ({@link TlsPostgres#HBA}).
 */
@ExtendWith(SandboxExtension.class)
class PostgresTlsIT {

    private static final long CHECK_SECONDS = 60;
    private static TlsPostgres pg;
    private final Sandbox sandbox = Sandbox.shared();

    @BeforeAll
    static void startServer() throws Exception {
        pg = TlsPostgres.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private AgentConfigs configs(String cluster, String user, String password, String tls) {
        return new AgentConfigs(sandbox, cluster).postgres(pg.server()).login("postgres", user, password).postgresTls(tls);
    }

    @Test
    void agentStreamsThroughVerifiedTlsWithAScramPassword() throws Exception {
        String cluster = ItSupport.uniqueCluster("tls");
        String table = "public." + cluster + "_t";
        pg.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
        AgentConfigs configs = configs(cluster, TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD,
                "{ mode: verify-full, ca: '" + pg.ca().certificate() + "' }").tables(table);
        try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
            ItSupport.await("the agent's walsender streams over TLS", Duration.ofSeconds(60), () -> count(
                    "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.backend_type = 'walsender'"
                            + " AND a.usename = '" + TlsPostgres.SCRAM_ROLE + "' AND s.ssl") == 1);
            for (int i = 0; i < 5; i++) {
                pg.execute("INSERT INTO " + table + " VALUES (" + i + ", 'over tls')");
            }
            List<ConsumerRecord<String, String>> records;
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                records = reader.readUntil(r -> r.size() >= 5, Duration.ofSeconds(30));
            }
            assertThat(records).hasSize(5).allSatisfy(r -> assertThat(r.value()).contains("over tls"));
            assertThat(count("SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = '"
                    + TlsPostgres.SCRAM_ROLE + "' AND NOT s.ssl")).as("every connection of the agent is TLS").isZero();
            assertThat(count("SELECT count(*) FROM pg_authid WHERE rolname = '" + TlsPostgres.SCRAM_ROLE
                    + "' AND rolpassword LIKE 'SCRAM-SHA-256$%'")).as("the password is stored as SCRAM").isEqualTo(1);
            assertThat(agent.log()).doesNotContain(TlsPostgres.SCRAM_PASSWORD).doesNotContain("postgres.tls is not set");
            agent.stop(30);
        } finally {
            ItSupport.await("slot released", Duration.ofSeconds(10), () -> count("SELECT count(*) FROM pg_replication_slots"
                    + " WHERE active AND slot_name = '" + configs.slot() + "'") == 0);
            pg.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + configs.slot() + "'");
        }
    }

    @Test
    void theCertRoleLogsInWithItsClientCertificate() throws Exception {
        TestCa.Issued client = pg.certRoleCertificate();
        AgentConfigs configs = configs(ItSupport.uniqueCluster("tlscert"), TlsPostgres.CERT_ROLE, "",
                "{ mode: verify-full, ca: '" + pg.ca().certificate() + "', cert: '" + client.cert() + "', key: '" + client.key() + "' }");
        try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
            CommandResult check = agent.runCommand("check", CHECK_SECONDS);
            assertThat(check.output()).as(check.output())
                    .contains("OK    postgres: connected to PostgreSQL")
                    .contains(" as " + TlsPostgres.CERT_ROLE)
                    .doesNotContain("FAIL  postgres");
        }
    }

    @Test
    void aWrongCaFailsCheckNamingTheCertificateAndTheCaFile() throws Exception {
        try (TestCa wrong = TestCa.create("some-other-ca")) {
            AgentConfigs configs = configs(ItSupport.uniqueCluster("tlsca"), TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD,
                    "{ mode: verify-full, ca: '" + wrong.certificate() + "' }");
            try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                CommandResult check = agent.runCommand("check", CHECK_SECONDS);
                System.out.println("PostgresTlsIT wrong CA:\n" + check.output());
                assertThat(check.exitCode()).isEqualTo(1);
                assertThat(check.output()).contains("FAIL  postgres: cannot connect to " + pg.jdbcUrl() + " as "
                        + TlsPostgres.SCRAM_ROLE + ": SSL error: certificate CN=localhost (issued by CN=pgrelay-test-postgres-ca)"
                        + " is not signed by the CA in " + wrong.certificate())
                        .doesNotContain(TlsPostgres.SCRAM_PASSWORD);
            }
        }
    }

    @Test
    void verifyFullRefusesACertificateForAnotherNameThatVerifyCaTakes() throws Exception {
        String ca = "ca: '" + pg.ca().certificate() + "'";
        AgentConfigs full = configs(ItSupport.uniqueCluster("tlsname"), TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD,
                "{ mode: verify-full, " + ca + " }");
        AgentConfigs caOnly = configs(ItSupport.uniqueCluster("tlsname"), TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD,
                "{ mode: verify-ca, " + ca + " }");
        try (AutoCloseable swapped = pg.presentCertificateFor("db.example.internal");
                AgentProcess agentFull = AgentProcess.prepare("agent-1", full.yaml("agent-1", ItSupport.freePort()));
                AgentProcess agentCa = AgentProcess.prepare("agent-1", caOnly.yaml("agent-1", ItSupport.freePort()))) {
            CommandResult refused = agentFull.runCommand("check", CHECK_SECONDS);
            System.out.println("PostgresTlsIT name mismatch under verify-full:\n" + refused.output());
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.output()).contains("FAIL  postgres: cannot connect to " + pg.jdbcUrl() + " as "
                    + TlsPostgres.SCRAM_ROLE + ": SSL error: certificate CN=db.example.internal (issued by"
                    + " CN=pgrelay-test-postgres-ca) is for [db.example.internal], not 127.0.0.1 (the host name is checked)")
                    .doesNotContain("PgjdbcHostnameVerifier")
                    .doesNotContain(TlsPostgres.SCRAM_PASSWORD);
            CommandResult taken = agentCa.runCommand("check", CHECK_SECONDS);
            assertThat(taken.output()).as(taken.output()).contains("OK    postgres: connected to PostgreSQL")
                    .doesNotContain("FAIL  postgres");
        }
    }

    @Test
    void modeDisableAgainstATlsOnlyServerIsRefusedByItsPgHba() throws Exception {
        AgentConfigs configs = configs(ItSupport.uniqueCluster("tlsoff"), TlsPostgres.SCRAM_ROLE, TlsPostgres.SCRAM_PASSWORD,
                "{ mode: disable }");
        try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
            CommandResult check = agent.runCommand("check", CHECK_SECONDS);
            System.out.println("PostgresTlsIT mode disable:\n" + check.output());
            assertThat(check.exitCode()).isEqualTo(1);
            assertThat(check.output()).contains("FAIL  postgres: cannot connect to " + pg.jdbcUrl() + " as " + TlsPostgres.SCRAM_ROLE
                    + ": FATAL: no pg_hba.conf entry for host \"127.0.0.1\", user \"" + TlsPostgres.SCRAM_ROLE
                    + "\", database \"postgres\", no encryption")
                    .doesNotContain(TlsPostgres.SCRAM_PASSWORD);
        }
    }

    private static long count(String sql) {
        try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
