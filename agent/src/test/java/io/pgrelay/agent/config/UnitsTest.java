package io.pgrelay.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class UnitsTest {

    @Test
    void durationsReadTheShortFormsAndIso() {
        assertThat(Units.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Units.parseDuration("3s")).isEqualTo(Duration.ofSeconds(3));
        assertThat(Units.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(Units.parseDuration("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Units.parseDuration("PT3S")).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void bareNumberIsNotADuration() {
        assertThatThrownBy(() -> Units.parseDuration("5")).hasMessage("'5' is not a duration (use 500ms, 3s, 2m)");
        assertThatThrownBy(() -> Units.parseDuration("PTX")).hasMessage("'PTX' is not a duration (use 500ms, 3s, 2m)");
    }

    @Test
    void sizesAreBinary() {
        assertThat(Units.parseSize("16MB")).isEqualTo(16L << 20);
        assertThat(Units.parseSize("512kb")).isEqualTo(512L << 10);
        assertThat(Units.parseSize("1000")).isEqualTo(1000);
        assertThatThrownBy(() -> Units.parseSize("16 megs")).hasMessageContaining("is not a size");
    }

    @Test
    void formatsReadBack() {
        assertThat(Units.formatDuration(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Units.formatDuration(Duration.ofMinutes(2))).isEqualTo("2m");
        assertThat(Units.formatSize(16L << 20)).isEqualTo("16MB");
        assertThat(Units.formatSize(1000)).isEqualTo("1000");
    }
}
