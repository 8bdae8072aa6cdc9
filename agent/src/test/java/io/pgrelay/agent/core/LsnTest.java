package io.pgrelay.agent.core;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LsnTest {

    @Test
    void parsesAndPrintsPostgresTextForm() {
        assertThat(Lsn.parse("16/3002D50").value()).isEqualTo(0x16_0300_2D50L);
        assertThat(Lsn.parse("16/3002d50")).hasToString("16/3002D50");
        assertThat(Lsn.of(0)).hasToString("0/0");
    }

    @Test
    void asciiBytesEqualTheTextForm() {
        for (long v : new long[] {0, 1, 0xF, 0x10, 0x1A2B3C4L, 0xFFFFFFFFL, 0x1_00000000L, 0x16_3002D50L, -1L, Long.MIN_VALUE}) {
            assertThat(new String(Lsn.toAscii(v), StandardCharsets.US_ASCII)).isEqualTo(Lsn.of(v).toString());
        }
    }

    @Test
    void comparesUnsigned() {
        assertThat(Lsn.of(-1L).isAfter(Lsn.of(1))).isTrue();
    }

    @Test
    void rejectsGarbage() {
        assertThatThrownBy(() -> Lsn.parse("16-3002")).hasMessageContaining("not an LSN");
        assertThatThrownBy(() -> Lsn.parse("/1")).hasMessageContaining("not an LSN");
    }
}
