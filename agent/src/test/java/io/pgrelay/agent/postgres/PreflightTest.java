package io.pgrelay.agent.postgres;

import static io.pgrelay.agent.postgres.TestPostgres.superuserSql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.config.PostgresConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.core.TableId;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreflightTest {

    private static List<Finding> preflight(PostgresConfig cfg) {
        return new Preflight(new PgConnections(cfg, "a-1"), cfg).run();
    }

    private static List<String> failures(List<Finding> findings) {
        return findings.stream().filter(Finding::failed).map(Finding::message).toList();
    }

    @Test
    void freshDatabaseNeedsOnlyWhatInitCreates() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        superuserSql(pg, db, "CREATE TABLE orders (id int PRIMARY KEY)");
        String slot = TestPostgres.uniqueName("slot");

        List<Finding> findings = preflight(TestPostgres.config(pg, db, "postgres", slot, "pub", List.of(TableId.parse("orders"))));

        assertThat(failures(findings)).isEmpty();
        assertThat(findings).extracting(Finding::message).contains(
                "postgres: wal_level is logical",
                "postgres: slot " + slot + " does not exist yet; init (or run) creates it",
                "postgres: publication pub does not exist yet; init (or run) creates it FOR TABLE \"public\".\"orders\"");
    }

    @Test
    void walLevelReplicaIsOneLineNamingTheFix() throws Exception {
        EmbeddedPostgres pg = TestPostgres.replica();
        String db = TestPostgres.newDatabase(pg);

        assertThat(failures(preflight(TestPostgres.config(pg, db, "postgres", "s", "p", List.of())))).containsExactly(
                "postgres: wal_level is 'replica'; set wal_level = logical in postgresql.conf and restart PostgreSQL");
    }

    @Test
    void roleWithoutReplicationIsOneLineNamingTheFix() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        String role = TestPostgres.uniqueName("plain");
        superuserSql(pg, db, "CREATE ROLE " + role + " LOGIN", "CREATE TABLE t (id int)", "ALTER TABLE t OWNER TO " + role,
                "GRANT CREATE ON DATABASE " + db + " TO " + role);

        assertThat(failures(preflight(TestPostgres.config(pg, db, role, TestPostgres.uniqueName("s"), "p",
                List.of(TableId.parse("t")))))).containsExactly(
                "postgres: role " + role + " lacks REPLICATION; as a superuser run ALTER ROLE " + role + " WITH REPLICATION");
    }

    @Test
    void missingTableIsOneLine() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        superuserSql(pg, db, "CREATE TABLE present (id int)");

        assertThat(failures(preflight(TestPostgres.config(pg, db, "postgres", TestPostgres.uniqueName("s"), "p",
                List.of(TableId.parse("present"), TableId.parse("public.nope")))))).containsExactly(
                "postgres: table public.nope (postgres.tables) does not exist in database " + db
                        + "; create it or remove it from postgres.tables");
    }

    @Test
    void publicationLackingATableIsNotedWithTheFix() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        superuserSql(pg, db, "CREATE TABLE a (id int)", "CREATE TABLE b (id int)", "CREATE PUBLICATION pub FOR TABLE a");

        assertThat(preflight(TestPostgres.config(pg, db, "postgres", TestPostgres.uniqueName("s"), "pub",
                List.of(TableId.parse("a"), TableId.parse("b"))))).contains(Finding.note(
                "postgres: publication pub lacks \"public\".\"b\"; init (or run) adds them: ALTER PUBLICATION pub ADD TABLE \"public\".\"b\""));
    }

    @Test
    void slotOfAnotherPluginOrDatabaseIsRefused() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        String other = TestPostgres.newDatabase(pg);
        String testDecoding = TestPostgres.uniqueName("td");
        String elsewhere = TestPostgres.uniqueName("elsewhere");
        superuserSql(pg, db, "SELECT pg_create_logical_replication_slot('" + testDecoding + "', 'test_decoding')");
        superuserSql(pg, other, "SELECT pg_create_logical_replication_slot('" + elsewhere + "', 'pgoutput')");
        try {
            assertThat(failures(preflight(TestPostgres.config(pg, db, "postgres", testDecoding, "p", List.of())))).containsExactly(
                    "postgres: slot " + testDecoding + " uses plugin test_decoding, not pgoutput; choose another postgres.slot,"
                            + " or drop that slot if nothing uses it: SELECT pg_drop_replication_slot('" + testDecoding + "')");
            assertThat(failures(preflight(TestPostgres.config(pg, db, "postgres", elsewhere, "p", List.of())))).containsExactly(
                    "postgres: slot " + elsewhere + " belongs to database " + other + ", not " + db
                            + "; choose another postgres.slot or point postgres.url at " + other);
        } finally {
            superuserSql(pg, "postgres", "SELECT pg_drop_replication_slot('" + testDecoding + "')",
                    "SELECT pg_drop_replication_slot('" + elsewhere + "')");
        }
    }

    @Test
    void unreachableServerIsOneFailedFinding() {
        PostgresConfig cfg = TestPostgres.config(TestPostgres.logical(), "postgres", "postgres", "s", "p", List.of());
        PostgresConfig closed = new PostgresConfig("jdbc:postgresql://127.0.0.1:1/app", cfg.user(), cfg.password(), "s", "p",
                List.of(), cfg.statusInterval(), cfg.connectTimeout());

        assertThat(preflight(closed)).singleElement().satisfies(f -> {
            assertThat(f.failed()).isTrue();
            assertThat(f.message()).startsWith("postgres: cannot connect to jdbc:postgresql://127.0.0.1:1/app as postgres: ");
        });
    }
}
