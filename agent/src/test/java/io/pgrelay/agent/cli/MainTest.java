package io.pgrelay.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.postgres.TestPostgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {
    }

    private static Result main(Function<PgRelayConfig, Integer> agent, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.commandLine(agent, Duration.ofSeconds(1), new PrintWriter(out), new PrintWriter(err)).execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    private static Result main(String... args) {
        return main(RunCommand.AGENT, args);
    }

    private Path config(String yaml) throws Exception {
        return Files.writeString(dir.resolve("config.yaml"), yaml);
    }

    private Path configFor(EmbeddedPostgres pg, String database, String slot) throws Exception {
        return config("""
                cluster: cli-test
                agent: { id: agent-1 }
                postgres: { url: '%s', user: postgres, slot: %s, publication: pub, tables: [orders] }
                kafka: { bootstrapServers: '127.0.0.1:1' }
                """.formatted(TestPostgres.url(pg, database), slot));
    }

    @Test
    void trainRunsEveryFormatAndLoadsTheClientsWithoutAnyServer() {
        Result r = main("train", "--transactions", "50");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("train: 500 events as PGRELAY / JSON", "train: 500 events as DEBEZIUM / JSON ",
                "train: 500 events as DEBEZIUM / JSON_SCHEMA", "train: 500 events as DEBEZIUM / AVRO",
                "Kafka producer, consumer and admin client built and closed; PostgreSQL driver loaded; HTTP server started"
                        + " and stopped; ZooKeeper client built");
    }

    @Test
    void versionAndHelpExitZero() {
        assertThat(main("--version")).satisfies(r -> {
            assertThat(r.status()).isZero();
            assertThat(r.out()).startsWith("pgrelay ");
        });
        assertThat(main("init", "--help")).satisfies(r -> {
            assertThat(r.status()).isZero();
            assertThat(r.out()).contains("--config=FILE");
        });
    }

    @Test
    void badUsageExitsTwo() {
        assertThat(main()).satisfies(r -> {
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).contains("Usage: pgrelay-agent", "run", "init", "teardown", "check");
        });
        assertThat(main("check")).satisfies(r -> {
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).contains("Missing required option: '--config=FILE'");
        });
        assertThat(main("launch", "--config", "x.yaml").status()).isEqualTo(2);
    }

    @Test
    void badConfigPrintsEveryProblemThenASummaryAndExitsTwo() throws Exception {
        Path file = config("""
                cluster: demo
                postgres: { url: 'jdbc:postgresql://127.0.0.1:1/app', user: u, statusInterval: soon }
                kafka: { bootstrapServers: k:9092, tombstone: false }
                coordination: { mode: etcd }
                """);

        for (String command : new String[] {"run", "init", "teardown", "check"}) {
            Result r = main(command, "--config", file.toString());
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).isEqualTo("""
                    postgres.statusInterval: 'soon' is not a duration (use 500ms, 3s, 2m)
                    kafka.tombstone: unknown key (did you mean kafka.tombstones?)
                    coordination.mode: 'etcd' is not one of slot, zookeeper
                    3 problems in %s
                    """.formatted(file));
        }
    }

    @Test
    void missingConfigFileExitsTwo() {
        Path missing = dir.resolve("absent.yaml");
        Result r = main("check", "--config", missing.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo(missing + ": no such file\n1 problem in " + missing + "\n");
    }

    @Test
    void runHandsTheConfigToTheAgentAndExitsWithItsStatus() throws Exception {
        Path file = config(ConfigFixtures.MINIMAL);
        AtomicReference<PgRelayConfig> seen = new AtomicReference<>();

        Result r = main(c -> {
            seen.set(c);
            return 0;
        }, "run", "--config", file.toString());

        assertThat(r.status()).isZero();
        assertThat(seen.get().cluster()).isEqualTo("demo");
        assertThat(main(c -> 1, "run", "--config", file.toString()).status()).isEqualTo(1);
    }

    @Test
    void initDdlNeedsASuperuserAndCreatesNothingWithoutOne() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        String role = TestPostgres.uniqueName("nosu");
        TestPostgres.superuserSql(pg, db, "CREATE TABLE orders (id int PRIMARY KEY)",
                "CREATE ROLE " + role + " LOGIN REPLICATION", "ALTER TABLE orders OWNER TO " + role,
                "GRANT CREATE ON DATABASE " + db + " TO " + role);
        String slot = TestPostgres.uniqueName("ddl");
        Path file = configFor(pg, db, slot);
        Files.writeString(file, Files.readString(file).replace("user: postgres", "user: " + role));

        Result r = main("init", "--ddl", "--config", file.toString());
        assertThat(r.status()).as(r.out()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("init --ddl: PostgreSQL lets only superusers create event triggers, and user " + role
                + " is not one; run init --ddl once as a superuser (the agents need no more privileges than before),"
                + " or leave out --ddl\n");
        assertThat(r.out()).isEmpty();
        // init without --ddl needs Kafka (the cluster's checkpoint): SlotLossIT and SchemaChangeIT run it against a broker
    }

    @Test
    void initRefusesWhenPreflightFails() throws Exception {
        EmbeddedPostgres pg = TestPostgres.replica();
        String db = TestPostgres.newDatabase(pg);
        TestPostgres.superuserSql(pg, db, "CREATE TABLE orders (id int PRIMARY KEY)");

        assertThat(main("init", "--config", configFor(pg, db, "s").toString())).isEqualTo(new Result(1, "",
                "postgres: wal_level is 'replica'; set wal_level = logical in postgresql.conf and restart PostgreSQL\n"
                        + "init: 1 problem; nothing was created\n"));
    }

    @Test
    void checkReportsEachCheckAndFailsOnUnreachableKafka() throws Exception {
        EmbeddedPostgres pg = TestPostgres.logical();
        String db = TestPostgres.newDatabase(pg);
        TestPostgres.superuserSql(pg, db, "CREATE TABLE orders (id int PRIMARY KEY)");
        Path file = configFor(pg, db, TestPostgres.uniqueName("chk"));

        Result r = main("check", "--config", file.toString());

        assertThat(r.status()).isEqualTo(1);
        assertThat(r.out().lines()).hasSize(12).startsWith(
                "OK    config: " + file + " is valid (cluster cli-test, agent agent-1)",
                "OK    postgres: connected to PostgreSQL " + pg.getPostgresDatabase().getConnection().getMetaData()
                        .getDatabaseProductVersion() + " at " + TestPostgres.url(pg, db) + " as postgres",
                "OK    postgres: wal_level is logical")
                .contains("NOTE  postgres: publication pub does not exist yet; init (or run) creates it FOR TABLE \"public\".\"orders\"")
                .anyMatch(l -> l.startsWith("NOTE  postgres: failover: synchronized_standby_slots is empty on the primary"))
                .contains("NOTE  postgres: tls: postgres.tls is not set, so pgjdbc's sslmode (prefer) applies: TLS only if the"
                        + " server offers it, and the server's certificate is not checked; set postgres.tls.mode: verify-full and"
                        + " postgres.tls.ca")
                .endsWith("FAIL  kafka: no broker at 127.0.0.1:1 answered within 1000ms; check kafka.bootstrapServers and that"
                        + " the brokers run", "check: 1 of 11 checks failed");
    }

    @Test
    void unreachablePostgresIsOneLineAndExitsOne() throws Exception {
        Path file = config(ConfigFixtures.MINIMAL.replace("db:5432", "127.0.0.1:1"));

        Result r = main("init", "--config", file.toString());

        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err().lines()).singleElement().asString()
                .startsWith("postgres: cannot connect to jdbc:postgresql://127.0.0.1:1/app as replicator: ");
    }
}
