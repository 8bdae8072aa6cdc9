package io.pgrelay.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.postgres.FailoverSlots.PrimaryFacts;
import io.pgrelay.agent.postgres.FailoverSlots.Readiness;
import io.pgrelay.agent.postgres.FailoverSlots.StandbyFacts;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FailoverSlotsTest {

    private static final String SLOT = "pgrelay_orders";

    private static PrimaryFacts primary(boolean failover, List<String> standbySlots, Map<String, Boolean> physical) {
        return new PrimaryFacts(17, "17.6", "app", true, failover, standbySlots, physical);
    }

    private static final PrimaryFacts WELL_SET = primary(true, List.of("standby1"), Map.of("standby1", true));
    private static final StandbyFacts SYNCED = new StandbyFacts("b:5432", true, true, "standby1", true);

    @Test
    void failoverSlotSyncedOnTheStandbyIsReady() {
        Readiness r = FailoverSlots.judge(SLOT, WELL_SET, List.of(SYNCED));

        assertThat(r.ready()).isTrue();
        assertThat(r.problems()).isEmpty();
        assertThat(r.syncedOn()).containsExactly("b:5432");
    }

    @Test
    void noStandbyInTheUrlLeavesSyncedOnUnknownAndJudgesThePrimaryAlone() {
        Readiness r = FailoverSlots.judge(SLOT, WELL_SET, List.of());

        assertThat(r.ready()).isTrue();
        assertThat(r.syncedOn()).isNull();
    }

    @Test
    void postgres16HasNoFailoverSlotsAndSaysToUpgrade() {
        Readiness r = FailoverSlots.judge(SLOT, new PrimaryFacts(16, "16.10", "app", false, false, List.of(), Map.of()), List.of());

        assertThat(r.ready()).isFalse();
        assertThat(r.syncedOn()).isNull();
        assertThat(r.problemTexts()).singleElement().asString()
                .startsWith("PostgreSQL 16.10 has no failover slots").contains("upgrade PostgreSQL to 17 or later");
    }

    @Test
    void slotWithoutFailoverNamesTheCommandThatSetsIt() {
        Readiness r = FailoverSlots.judge(SLOT, primary(false, List.of("standby1"), Map.of("standby1", true)), List.of());

        assertThat(r.ready()).isFalse();
        assertThat(r.problemTexts()).singleElement().asString().contains("created without failover")
                .contains("ALTER_REPLICATION_SLOT pgrelay_orders (FAILOVER true)").contains("dbname=app replication=database");
    }

    @Test
    void missingSlotIsNotReadyAndRunCreatesIt() {
        Readiness r = FailoverSlots.judge(SLOT, new PrimaryFacts(17, "17.6", "app", false, false, List.of("s"), Map.of("s", true)),
                List.of());

        assertThat(r.problemTexts()).containsExactly("slot pgrelay_orders does not exist yet; init (or run) creates it with failover = true");
    }

    @Test
    void emptySynchronizedStandbySlotsSaysWhatToSet() {
        Readiness r = FailoverSlots.judge(SLOT, primary(true, List.of(), Map.of()), List.of(SYNCED));

        assertThat(r.ready()).isFalse();
        assertThat(r.problems()).singleElement().satisfies(p -> {
            assertThat(p.text()).startsWith("synchronized_standby_slots is empty on the primary")
                    .contains("set synchronized_standby_slots to the physical slot of each standby");
            assertThat(p.stallsStreaming()).isFalse();
        });
    }

    @Test
    void namedSlotThatIsMissingOrInactiveStallsStreaming() {
        Readiness r = FailoverSlots.judge(SLOT, primary(true, List.of("gone", "idle"), Map.of("idle", false)), List.of());

        assertThat(r.problems()).hasSize(2).allSatisfy(p -> assertThat(p.stallsStreaming()).isTrue());
        assertThat(r.problemTexts().get(0)).contains("names gone, which is no physical slot on the primary");
        assertThat(r.problemTexts().get(1)).contains("no standby streams from physical slot idle");
    }

    @Test
    void standbyWithoutTheSlotSyncedSaysWhichSettingsAreMissing() {
        StandbyFacts bare = new StandbyFacts("c:5432", false, false, "", null);

        Readiness r = FailoverSlots.judge(SLOT, WELL_SET, List.of(SYNCED, bare));

        assertThat(r.ready()).isFalse();
        assertThat(r.syncedOn()).containsExactly("b:5432");
        assertThat(r.problemTexts()).singleElement().asString().startsWith("standby c:5432 has no synced copy of slot pgrelay_orders")
                .contains("sync_replication_slots = on", "hot_standby_feedback = on", "primary_slot_name", "dbname in primary_conninfo");
    }

    @Test
    void standbyConfiguredButNotYetSyncedSaysToWait() {
        Readiness r = FailoverSlots.judge(SLOT, WELL_SET, List.of(new StandbyFacts("b:5432", true, true, "standby1", false)));

        assertThat(r.problemTexts()).singleElement().asString().contains("no synced copy of slot pgrelay_orders yet");
    }

    @Test
    void synchronizedStandbySlotsIsParsedLikePostgresLists() {
        assertThat(FailoverSlots.slotNames("")).isEmpty();
        assertThat(FailoverSlots.slotNames(" a, \"B c\" ,b")).containsExactly("a", "B c", "b");
    }
}
