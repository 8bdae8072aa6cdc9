package io.pgrelay.coordination;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;

import static org.assertj.core.api.Assertions.assertThat;

class RevocationTest {

    @Test
    void onlyAHandoverOrACloseLetsTheLeaderFinishCleanly() {
        for (Revocation.Reason reason : Revocation.Reason.values()) {
            boolean clean = EnumSet.of(Revocation.Reason.HANDOVER, Revocation.Reason.ELECTION_CLOSED).contains(reason);
            assertThat(new Revocation(reason, "why").finishesCleanly()).as(reason.name()).isEqualTo(clean);
        }
    }

    @Test
    void logsItsDetail() {
        assertThat(new Revocation(Revocation.Reason.HANDOVER, "handover to agent-2")).hasToString("handover to agent-2");
    }
}
