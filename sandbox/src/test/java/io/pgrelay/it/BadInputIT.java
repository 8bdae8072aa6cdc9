package io.pgrelay.it;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.AgentProcess.CommandResult;
import io.pgrelay.sandbox.server.Postgres;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user sees when the configuration or the server is wrong: the real agent jar, run as a
 * child process, says what is wrong in one line naming the fix, and exits promptly with the
 * documented status — never a stack trace, never a retry loop, never the password.
 */
@ExtendWith(SandboxExtension.class)
class BadInputIT {

    /** Every command here must end by itself well within this (a retry loop would not). */
    private static final long PROMPT_SECONDS = 20;
    private static final String PASSWORD = "Pw-" + Long.toString(System.nanoTime(), 36);

    /** A PostgreSQL that asks every role but postgres for its password (the sandbox's trusts everyone). */
    private static Postgres passwordPostgres;
    private static Path hbaDir;
    /** A PostgreSQL with {@code wal_level=replica}: no logical decoding. */
    private static Postgres replicaOnlyPostgres;

    private final Sandbox sandbox = Sandbox.shared();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @AfterAll
    static void stopExtraPostgres() throws Exception {
        if (replicaOnlyPostgres != null) {
            replicaOnlyPostgres.close();
            replicaOnlyPostgres = null;
        }
        if (passwordPostgres != null) {
            passwordPostgres.close();
            passwordPostgres = null;
        }
        if (hbaDir != null) {
            Files.deleteIfExists(hbaDir.resolve("pg_hba.conf"));
            Files.deleteIfExists(hbaDir);
        }
    }

    @Test
    void configWithThreeMistakesPrintsThreeProblemsAndExits2BeforeConnecting() throws Exception {
        String cluster = ItSupport.uniqueCluster("bad");
        int deadPort = ItSupport.freePort();
        String yaml = ""
                + "agent:\n"
                + "  id: agent-1\n"
                + "  http: 127.0.0.1:" + ItSupport.freePort() + "\n"
                + "postgres:\n"
                + "  url: jdbc:postgresql://127.0.0.1:" + deadPort + "/postgres\n"
                + "  user: postgres\n"
                + "  colour: blue\n"
                + "kafka:\n"
                + "  bootstrapServers: 127.0.0.1:" + ItSupport.freePort() + "\n"
                + "  topicPrefix: " + cluster + "\n"
                + "  commitInterval: 10 parsecs\n";
        AgentProcess agent = closeLater(AgentProcess.prepare("agent-1", yaml));

        CommandResult run = agent.runCommand("run", PROMPT_SECONDS);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(2);
        assertThat(run.output().lines().toList()).containsExactly(
                "cluster: required",
                "postgres.colour: unknown key",
                "kafka.commitInterval: '10 parsecs' is not a duration (use 500ms, 3s, 2m)",
                "3 problems in " + agent.config());
        assertThat(run.output()).doesNotContain("connect", String.valueOf(deadPort), "starting agent");
    }

    @Test
    void walLevelReplicaStopsRunAndInitWithTheFix() throws Exception {
        Postgres replicaOnly = replicaOnlyPostgres();
        String cluster = ItSupport.uniqueCluster("wal");
        AgentProcess agent = closeLater(prepare(new AgentConfigs(sandbox, cluster).postgres(replicaOnly)));
        String fix = "postgres: wal_level is 'replica'; set wal_level = logical in postgresql.conf and restart PostgreSQL";

        CommandResult run = agent.runCommand("run", PROMPT_SECONDS);
        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(problems(run.output())).as(run.output()).singleElement().asString().endsWith(fix);
        assertNoStackTrace(run.output());

        CommandResult init = agent.runCommand("init", PROMPT_SECONDS);
        assertThat(init.exitCode()).as(init.output()).isEqualTo(1);
        assertThat(init.output().lines().toList()).containsExactly(fix, "init: 1 problem; nothing was created");
    }

    @Test
    void twoServerProblemsAreTwoLogLinesEachNamingTheSlot() throws Exception {
        Postgres replicaOnly = replicaOnlyPostgres();
        String cluster = ItSupport.uniqueCluster("two");
        String table = "public." + cluster + "_nowhere";
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).postgres(replicaOnly).tables(table);
        AgentProcess agent = closeLater(prepare(configs));

        CommandResult run = agent.runCommand("run", PROMPT_SECONDS);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(problems(run.output())).as(run.output()).satisfiesExactly(
                line -> assertThat(line).contains(" ERROR ", "slot " + configs.slot() + ": postgres: wal_level is 'replica'"),
                line -> assertThat(line).contains(" ERROR ", "slot " + configs.slot() + ": postgres: table " + table));
        assertNoStackTrace(run.output());
    }

    @Test
    void missingTableIsNamedWithTheFix() throws Exception {
        String cluster = ItSupport.uniqueCluster("notable");
        String table = "public." + cluster + "_nowhere";
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        AgentProcess agent = closeLater(prepare(configs));

        CommandResult run = agent.runCommand("run", PROMPT_SECONDS);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(problems(run.output())).as(run.output()).singleElement().asString()
                .endsWith("postgres: table " + table + " (postgres.tables) does not exist in database postgres;"
                        + " create it or remove it from postgres.tables");
        assertNoStackTrace(run.output());
        assertThat(ItSupport.queryOne(sandbox, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
                + configs.slot() + "'")).as("nothing created").isEqualTo("0");
    }

    @Test
    void roleWithoutReplicationIsToldToAlterRole() throws Exception {
        Postgres pg = passwordPostgres();
        String cluster = ItSupport.uniqueCluster("norepl");
        String role = cluster + "_role";
        String table = "public." + cluster + "_t";
        // Everything else in order (owns the table, may create the publication): REPLICATION is the only gap.
        pg.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + PASSWORD + "'",
                "GRANT CONNECT, CREATE ON DATABASE postgres TO " + role,
                "CREATE TABLE " + table + " (id int PRIMARY KEY)",
                "ALTER TABLE " + table + " OWNER TO " + role);
        AgentProcess agent = closeLater(prepare(new AgentConfigs(sandbox, cluster).postgres(pg).tables(table)
                .login("postgres", role, PASSWORD)));

        CommandResult run = agent.runCommand("run", PROMPT_SECONDS);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(problems(run.output())).as(run.output()).singleElement().asString()
                .endsWith("postgres: role " + role + " lacks REPLICATION; as a superuser run ALTER ROLE " + role + " WITH REPLICATION");
        assertNoStackTrace(run.output());
        assertThat(run.output()).doesNotContain(PASSWORD);
        assertThat(Files.readString(agent.config())).as("the password did reach the agent").contains(PASSWORD);
    }

    @Test
    void wrongPasswordIsOneLineWithoutThePassword() throws Exception {
        Postgres pg = passwordPostgres();
        String cluster = ItSupport.uniqueCluster("badpw");
        String role = cluster + "_role";
        pg.execute("CREATE ROLE " + role + " LOGIN REPLICATION PASSWORD '" + PASSWORD + "'");
        String wrong = "Wrong-" + PASSWORD;
        AgentProcess agent = closeLater(prepare(new AgentConfigs(sandbox, cluster).postgres(pg).login("postgres", role, wrong)));

        CommandResult run = agent.runCommand("run", PROMPT_SECONDS);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
        assertThat(problems(run.output())).as(run.output()).singleElement().asString()
                .endsWith("postgres: cannot connect to " + pg.jdbcUrl() + " as " + role
                        + ": FATAL: password authentication failed for user \"" + role + "\"");
        assertNoStackTrace(run.output());
        assertThat(run.output()).doesNotContain(wrong).doesNotContain(PASSWORD);
    }

    /** The agent's WARN and ERROR log lines: what it says went wrong. */
    private static List<String> problems(String output) {
        return output.lines().filter(l -> l.contains(" ERROR ") || l.contains(" WARN ")).toList();
    }

    private static void assertNoStackTrace(String output) {
        assertThat(output).doesNotContain("\tat ", "Exception", "Caused by");
    }

    private AgentProcess prepare(AgentConfigs configs) throws Exception {
        AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()));
        cleanup.add(() -> ItSupport.dropSlotAndPublication(sandbox, configs.slot()));
        return agent;
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        cleanup.add(c);
        return c;
    }

    private static synchronized Postgres replicaOnlyPostgres() throws Exception {
        if (replicaOnlyPostgres == null) {
            replicaOnlyPostgres = Postgres.start("wal_level", "replica");
        }
        return replicaOnlyPostgres;
    }

    private static synchronized Postgres passwordPostgres() throws Exception {
        if (passwordPostgres == null) {
            hbaDir = Files.createTempDirectory("pgrelay-hba-");
            Path hba = hbaDir.resolve("pg_hba.conf");
            Files.writeString(hba, ""
                    + "local all all trust\n"
                    + "host all postgres 127.0.0.1/32 trust\n"
                    + "host all postgres ::1/128 trust\n"
                    + "host replication postgres 127.0.0.1/32 trust\n"
                    + "host all all 127.0.0.1/32 scram-sha-256\n"
                    + "host all all ::1/128 scram-sha-256\n"
                    + "host replication all 127.0.0.1/32 scram-sha-256\n");
            passwordPostgres = Postgres.start("hba_file", hba.toString());
        }
        return passwordPostgres;
    }
}
