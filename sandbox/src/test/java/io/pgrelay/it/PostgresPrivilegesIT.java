package io.pgrelay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.AgentProcess.CommandResult;
import io.pgrelay.sandbox.server.TopicReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The least-privilege PostgreSQL role of docs/deploy.md ("A least-privilege role"), in a database
 * of its own: a superuser runs {@code init} once with an admin config, then the agent runs as the
 * role with exactly the documented grants and streams; without {@code REPLICATION}, {@code check}
 * names what is missing.
 */
@ExtendWith(SandboxExtension.class)
class PostgresPrivilegesIT {

    private static final long CHECK_SECONDS = 60;
    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void theDocumentedRoleStreamsAfterASuperusersInitAndWithoutReplicationCheckNamesIt() throws Exception {
        String cluster = ItSupport.uniqueCluster("priv");
        String db = cluster + "_db";
        String role = cluster + "_role";
        String table = "public.orders";
        sandbox.postgres().execute("CREATE DATABASE " + db);
        try {
            execute(db, "CREATE TABLE " + table + " (id int PRIMARY KEY, v text)",
                    "CREATE ROLE " + role + " LOGIN REPLICATION",
                    "GRANT USAGE ON SCHEMA public TO " + role,
                    "GRANT SELECT ON " + table + " TO " + role,
                    "GRANT pg_read_all_stats TO " + role,
                    "GRANT pg_signal_backend TO " + role,
                    "GRANT CREATE ON DATABASE " + db + " TO " + role);
            AgentConfigs admin = new AgentConfigs(sandbox, cluster).login(db, sandbox.postgres().superuser(), "").tables(table);
            try (AgentProcess init = AgentProcess.prepare("admin", admin.yaml("admin", ItSupport.freePort()))) {
                CommandResult result = init.runCommand("init", CHECK_SECONDS);
                System.out.println("PostgresPrivilegesIT init as the superuser:\n" + result.output());
                assertThat(result.exitCode()).as(result.output()).isZero();
            }
            AgentConfigs configs = new AgentConfigs(sandbox, cluster).login(db, role, "").tables(table);
            try (AgentProcess agent = AgentProcess.prepare("agent-1", configs.yaml("agent-1", ItSupport.freePort()))) {
                CommandResult check = agent.runCommand("check", CHECK_SECONDS);
                System.out.println("PostgresPrivilegesIT check as " + role + ":\n" + check.output());
                assertThat(check.output()).as(check.output()).doesNotContain("FAIL  postgres");
                agent.start();
                ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(60));
                execute(db, "INSERT INTO " + table + " VALUES (1, 'as the least-privilege role')");
                try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                    assertThat(reader.readUntil(r -> !r.isEmpty(), Duration.ofSeconds(30)))
                            .as(agent.log()).singleElement().satisfies(r -> assertThat(r.value()).contains("least-privilege"));
                }
                agent.stop(30);
                assertThat(agent.log()).doesNotContain(" ERROR ");

                execute(db, "ALTER ROLE " + role + " NOREPLICATION");
                CommandResult without = agent.runCommand("check", CHECK_SECONDS);
                System.out.println("PostgresPrivilegesIT check without REPLICATION:\n" + without.output());
                assertThat(without.exitCode()).isEqualTo(1);
                assertThat(without.output()).contains("FAIL  postgres: role " + role + " lacks REPLICATION");
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, "pgrelay_" + cluster);
            sandbox.postgres().execute("DROP DATABASE " + db + " WITH (FORCE)", "DROP ROLE IF EXISTS " + role);
        }
    }

    private void execute(String database, String... sql) {
        try (Connection c = DriverManager.getConnection(sandbox.postgres().jdbcUrl(database), sandbox.postgres().superuser(), "");
                Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + e.getMessage(), e);
        }
    }
}
