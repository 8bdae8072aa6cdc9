package io.pgrelay.agent.postgres;

import static io.pgrelay.agent.postgres.TestPostgres.superuserSql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.postgres.SlotAdmin.SlotInUseException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.replication.PGReplicationStream;

class SlotAndPublicationAdminTest {

    private final EmbeddedPostgres pg = TestPostgres.logical();

    @Test
    void publicationIsCreatedThenExtendedThenLeftAlone() throws Exception {
        String db = TestPostgres.newDatabase(pg);
        superuserSql(pg, db, "CREATE TABLE a (id int)", "CREATE TABLE \"B b\" (id int)");
        List<TableId> a = List.of(TableId.parse("a"));
        List<TableId> both = List.of(TableId.parse("a"), TableId.parse("\"B b\""));
        try (Connection c = connections(db).open()) {
            PublicationAdmin admin = new PublicationAdmin(c);

            assertThat(admin.ensure("Pub", a)).containsExactly("created publication Pub FOR TABLE \"public\".\"a\"");
            assertThat(admin.ensure("Pub", both)).containsExactly("added to publication Pub: \"public\".\"B b\"");
            assertThat(admin.ensure("Pub", both)).isEmpty();
            assertThat(admin.read("Pub").orElseThrow().tables()).containsExactlyInAnyOrderElementsOf(both);

            assertThat(admin.drop("Pub")).isTrue();
            assertThat(admin.drop("Pub")).isFalse();
            assertThat(admin.read("Pub")).isEmpty();
        }
    }

    @Test
    void publicationForAllTables() throws Exception {
        String db = TestPostgres.newDatabase(pg);
        try (Connection c = connections(db).open()) {
            PublicationAdmin admin = new PublicationAdmin(c);
            assertThat(admin.ensure("everything", List.of())).containsExactly("created publication everything FOR ALL TABLES");
            assertThat(admin.read("everything").orElseThrow().allTables()).isTrue();
        }
    }

    @Test
    void slotIsCreatedReadAndDropped() throws Exception {
        String db = TestPostgres.newDatabase(pg);
        String slot = TestPostgres.uniqueName("slot");
        try (Connection c = connections(db).open()) {
            SlotAdmin admin = new SlotAdmin(c);
            assertThat(admin.read(slot)).isEmpty();

            Lsn consistentPoint = admin.create(slot);

            SlotState state = admin.read(slot).orElseThrow();
            assertThat(state.plugin()).isEqualTo("pgoutput");
            assertThat(state.database()).isEqualTo(db);
            assertThat(state.active()).isFalse();
            assertThat(state.activePid()).isNull();
            assertThat(state.confirmedFlushLsn()).isEqualTo(consistentPoint);
            assertThat(state.walStatus()).isEqualTo("reserved");
            assertThat(state.retainedBytes()).isNotNegative();
            assertThat(admin.drop(slot)).isTrue();
            assertThat(admin.drop(slot)).isFalse();
        }
    }

    @Test
    void activeSlotIsNotDroppedAndThePidIsNamed() throws Exception {
        String db = TestPostgres.newDatabase(pg);
        String slot = TestPostgres.uniqueName("slot");
        PgConnections connections = connections(db);
        try (Connection c = connections.open(); Connection replication = connections.openReplication()) {
            new PublicationAdmin(c).ensure("pub", List.of());
            SlotAdmin admin = new SlotAdmin(c);
            admin.create(slot);
            PGReplicationStream stream = replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot).withSlotOption("proto_version", 1).withSlotOption("publication_names", "pub").start();
            int pid = admin.read(slot).orElseThrow().activePid();

            assertThatThrownBy(() -> admin.drop(slot))
                    .isInstanceOf(SlotInUseException.class)
                    .hasMessage("slot " + slot + " is active, held by pid " + pid + " (pgrelay-test from 127.0.0.1); stop that agent"
                            + " first, or end the session with SELECT pg_terminate_backend(" + pid + ")");

            stream.close();
        }
        try (Connection c = connections.open()) {
            assertThat(new SlotAdmin(c).drop(slot)).isTrue();
        }
    }

    private PgConnections connections(String db) {
        return new PgConnections(TestPostgres.config(pg, db, "postgres", "unused", "unused", List.of()), "test");
    }
}
