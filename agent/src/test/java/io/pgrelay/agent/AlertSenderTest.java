package io.pgrelay.agent;

import io.pgrelay.coordination.Member;
import io.pgrelay.coordination.Role;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Who sends the cluster's notifications while this agent's election knows no leader. */
class AlertSenderTest {

    private static Member member(String id, Role role, long epoch) {
        return new Member(id, "http://" + id, role, epoch, Instant.EPOCH);
    }

    @Test
    void theLowestLiveIdSpeaks() {
        List<Member> members = List.of(member("a", Role.STANDBY, 0), member("b", Role.STANDBY, 0));
        assertThat(Agent.speaksWithoutLeader("a", 4, members)).isTrue();
        assertThat(Agent.speaksWithoutLeader("b", 4, members)).isFalse();
    }

    @Test
    void aLeaderOfANewerTermSpeaksForItself() {
        List<Member> members = List.of(member("a", Role.STANDBY, 0), member("b", Role.LEADER, 5));
        assertThat(Agent.speaksWithoutLeader("a", 4, members)).isFalse();
    }

    @Test
    void aDeadLeadersRowOfATermAlreadySeenDoesNotSilenceTheStandbys() {
        // The leader of epoch 4 was SIGKILLed; its row is still inside the liveness window.
        List<Member> members = List.of(member("a", Role.STANDBY, 0), member("b", Role.STANDBY, 0), member("c", Role.LEADER, 4));
        assertThat(Agent.speaksWithoutLeader("a", 4, members)).isTrue();
        assertThat(Agent.speaksWithoutLeader("b", 4, members)).isFalse();
    }

    @Test
    void aStoppingMemberDoesNotSpeakAndNobodyListedMeansThisAgentDoes() {
        assertThat(Agent.speaksWithoutLeader("b", 4, List.of(member("a", Role.STOPPING, 0), member("b", Role.STANDBY, 0)))).isTrue();
        assertThat(Agent.speaksWithoutLeader("a", 4, List.of())).isTrue();
    }
}
