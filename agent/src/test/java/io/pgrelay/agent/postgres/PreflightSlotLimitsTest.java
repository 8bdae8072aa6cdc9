package io.pgrelay.agent.postgres;

import static io.pgrelay.agent.postgres.TestPostgres.superuserSql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.core.Finding;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** On a server of its own: one slot at most, and slots may keep at most 1MB of WAL, so a slot can lose its WAL. */
class PreflightSlotLimitsTest {

    private static EmbeddedPostgres pg;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().setServerConfig("wal_level", "logical").setServerConfig("max_replication_slots", "1")
                .setServerConfig("max_slot_wal_keep_size", "1MB").start();
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    private static List<String> failures(String slot) {
        var cfg = TestPostgres.config(pg, "postgres", "postgres", slot, "p", List.of());
        return new Preflight(new PgConnections(cfg, "a"), cfg).run().stream().filter(Finding::failed).map(Finding::message).toList();
    }

    @Test
    void slotThatLostItsWalFailsLoudlyAndNoSlotIsLeftForAnother() throws Exception {
        superuserSql(pg, "postgres", "SELECT pg_create_logical_replication_slot('old', 'pgoutput')", "CREATE TABLE filler (x int)");
        for (int i = 0; i < 4; i++) { // past 1MB of retained WAL: the checkpoint invalidates the slot
            superuserSql(pg, "postgres", "INSERT INTO filler SELECT generate_series(1, 1000)", "SELECT pg_switch_wal()", "CHECKPOINT");
        }

        assertThat(failures("old")).containsExactly("postgres: slot old has lost required WAL; drop it with teardown and re-init"
                + " — data between was not captured");
        assertThat(failures("new")).containsExactly("postgres: max_replication_slots is 1 and all 1 are in use;"
                + " raise max_replication_slots in postgresql.conf and restart PostgreSQL");
    }
}
