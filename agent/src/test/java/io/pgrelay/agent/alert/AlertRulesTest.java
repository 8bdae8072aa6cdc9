package io.pgrelay.agent.alert;

import io.pgrelay.agent.alert.AlertRules.Observation;
import io.pgrelay.agent.alert.AlertRules.Rule;
import io.pgrelay.agent.config.AlertsConfig;
import io.pgrelay.agent.config.Secret;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class AlertRulesTest {

    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    private final AlertRules rules = new AlertRules(new AlertsConfig(1000, 5000, Duration.ofSeconds(60), Duration.ofSeconds(30),
            Duration.ofSeconds(10), new AlertsConfig.Webhook(Secret.EMPTY, Duration.ofSeconds(1), 0, Duration.ofSeconds(1))), "s");

    private static Observation slot(long lag, boolean active, String walStatus, boolean leader) {
        return new Observation(true, true, active, walStatus, lag, 0.0, leader, null);
    }

    @Test
    void lagBytesWarnsThenGoesCriticalThenResolvesBoth() {
        assertThat(rules.evaluate(slot(999, true, "reserved", true), T0)).isEmpty();
        var fired = rules.evaluate(slot(1000, true, "reserved", true), T0.plusSeconds(1));
        assertThat(fired).extracting(c -> c.alert().rule()).containsExactly(Rule.SLOT_LAG_BYTES_WARNING);
        assertThat(fired.get(0).firing()).isTrue();
        assertThat(rules.evaluate(slot(6000, true, "reserved", true), T0.plusSeconds(2)))
                .extracting(c -> c.alert().rule()).containsExactly(Rule.SLOT_LAG_BYTES_CRITICAL);
        assertThat(rules.firing()).extracting(a -> a.since()).containsExactly(T0.plusSeconds(1), T0.plusSeconds(2));
        var resolved = rules.evaluate(slot(0, true, "reserved", true), T0.plusSeconds(3));
        assertThat(resolved).allMatch(c -> !c.firing()).hasSize(2);
        assertThat(rules.firing()).isEmpty();
    }

    @Test
    void inactiveSlotFiresOnlyAfterItsDurationAndReportsWhenItBegan() {
        assertThat(rules.evaluate(slot(0, false, "reserved", true), T0)).isEmpty();
        assertThat(rules.evaluate(slot(0, false, "reserved", true), T0.plusSeconds(29))).isEmpty();
        var fired = rules.evaluate(slot(0, false, "reserved", true), T0.plusSeconds(30));
        assertThat(fired).extracting(c -> c.alert().rule()).containsExactly(Rule.SLOT_INACTIVE);
        assertThat(fired.get(0).alert().since()).isEqualTo(T0);
        assertThat(rules.evaluate(slot(0, true, "reserved", true), T0.plusSeconds(31))).singleElement()
                .matches(c -> !c.firing());
    }

    @Test
    void walStatusUnreservedAndLostEachFire() {
        assertThat(rules.evaluate(slot(0, true, "unreserved", true), T0)).extracting(c -> c.alert().rule())
                .containsExactly(Rule.WAL_UNRESERVED);
        assertThat(rules.evaluate(slot(0, false, "lost", true), T0.plusSeconds(1))).extracting(c -> c.alert().rule() + "/" + c.firing())
                .containsExactly("WAL_UNRESERVED/false", "WAL_LOST/true");
    }

    @Test
    void noLeaderFiresAfterItsDurationEvenWhenTheSlotCannotBeRead() {
        Observation unreadable = new Observation(false, false, false, null, null, null, false, null);
        assertThat(rules.evaluate(unreadable, T0)).isEmpty();
        assertThat(rules.evaluate(unreadable, T0.plusSeconds(10))).extracting(c -> c.alert().rule()).containsExactly(Rule.NO_LEADER);
    }

    @Test
    void anUnreadableSlotKeepsSlotAlertsAsTheyWere() {
        rules.evaluate(slot(2000, true, "reserved", true), T0);
        assertThat(rules.evaluate(new Observation(false, false, false, null, null, null, true, null), T0.plusSeconds(1))).isEmpty();
        assertThat(rules.isFiring(Rule.SLOT_LAG_BYTES_WARNING)).isTrue();
    }
}
