package io.pgrelay.agent.event;

import org.junit.jupiter.api.Test;

import static io.pgrelay.agent.event.Json.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TimestampMappingTest {

    private static final int TIMESTAMP = 1114;
    private static final int TIMESTAMPTZ = 1184;

    @Test
    void timestampGetsAT() {
        assertThat(value(TIMESTAMP, "2026-11-22 10:15:30.123456")).isEqualTo("\"2026-11-22T10:15:30.123456\"");
        assertThat(value(TIMESTAMP, "2026-11-22 10:15:30")).isEqualTo("\"2026-11-22T10:15:30\"");
        assertThat(value(TIMESTAMP, "12026-11-22 10:15:30.5")).isEqualTo("\"12026-11-22T10:15:30.5\"");
    }

    @Test
    void timestampInUtcKeepsItsDigitsAndGetsZ() {
        assertThat(value(TIMESTAMPTZ, "2026-11-22 10:15:30.123456+00")).isEqualTo("\"2026-11-22T10:15:30.123456Z\"");
        assertThat(value(TIMESTAMPTZ, "2026-11-22 10:15:30.5+00")).isEqualTo("\"2026-11-22T10:15:30.5Z\"");
        assertThat(value(TIMESTAMPTZ, "2026-11-22 10:15:30+00")).isEqualTo("\"2026-11-22T10:15:30Z\"");
    }

    @Test
    void timestamptzWithAnotherOffsetIsConvertedToUtc() {
        assertThat(value(TIMESTAMPTZ, "2026-11-22 10:15:30.123456+05:30")).isEqualTo("\"2026-11-22T04:45:30.123456Z\"");
        assertThat(value(TIMESTAMPTZ, "2026-11-22 20:15:30-08")).isEqualTo("\"2026-11-23T04:15:30Z\"");
        assertThat(value(TIMESTAMPTZ, "2026-01-01 00:10:00.5+01")).isEqualTo("\"2025-12-31T23:10:00.5Z\"");
        // Local mean time before time zones existed: PostgreSQL prints seconds in the offset.
        assertThat(value(TIMESTAMPTZ, "1850-01-01 00:00:00+00:19:32")).isEqualTo("\"1849-12-31T23:40:28Z\"");
        assertThat(value(TIMESTAMPTZ, "2026-11-22 10:15:30-00:30")).isEqualTo("\"2026-11-22T10:45:30Z\"");
    }

    @Test
    void infinityStaysText() {
        assertThat(value(TIMESTAMPTZ, "infinity")).isEqualTo("\"infinity\"");
        assertThat(value(TIMESTAMPTZ, "-infinity")).isEqualTo("\"-infinity\"");
        assertThat(value(TIMESTAMP, "infinity")).isEqualTo("\"infinity\"");
        assertThat(value(TIMESTAMP, "-infinity")).isEqualTo("\"-infinity\"");
    }

    @Test
    void bcYearsBecomeAstronomicalIsoYears() {
        // DESIGN.md: timestamptz → ISO-8601 UTC "…Z", timestamp → ISO-8601 with T; ISO-8601 has a
        // year 0 (1 BC) and negative years before it.
        assertThat(value(TIMESTAMPTZ, "0044-03-15 10:00:00+00 BC")).isEqualTo("\"-0043-03-15T10:00:00Z\"");
        assertThat(value(TIMESTAMPTZ, "0001-12-31 23:59:59.5+00 BC")).isEqualTo("\"0000-12-31T23:59:59.5Z\"");
        assertThat(value(TIMESTAMP, "0044-03-15 10:00:00 BC")).isEqualTo("\"-0043-03-15T10:00:00\"");
        assertThat(value(TIMESTAMP, "4713-11-24 00:00:00 BC")).isEqualTo("\"-4712-11-24T00:00:00\"");
        assertThat(value(1082, "0044-03-15 BC")).isEqualTo("\"-0043-03-15\"");
        assertThat(value(1082, "0001-01-01 BC")).isEqualTo("\"0000-01-01\"");
    }

    @Test
    void bcTimestamptzWithAnotherOffsetIsConvertedToUtc() {
        assertThat(value(TIMESTAMPTZ, "0044-03-15 00:10:00+00:19:32 BC")).isEqualTo("\"-0043-03-14T23:50:28Z\"");
        assertThat(value(TIMESTAMPTZ, "0001-12-31 23:00:00-02 BC")).isEqualTo("\"0001-01-01T01:00:00Z\"");
    }

    @Test
    void bcValueWithoutYearFailsClearly() {
        assertThatThrownBy(() -> value(1082, "x BC")).isInstanceOf(EventEncodingException.class)
                .hasMessage("BC date 'x BC' does not start with a year");
    }

    @Test
    void malformedTimestamptzFailsClearly() {
        assertThatThrownBy(() -> value(TIMESTAMPTZ, "2026-11-22 1x:15:30+05"))
                .isInstanceOf(EventEncodingException.class)
                .hasMessageStartingWith("timestamptz value '2026-11-22 1x:15:30+05' is not in PostgreSQL's ISO form");
    }

    @Test
    void commitTimeHasSixFractionalDigits() {
        JsonBuffer out = new JsonBuffer(8);
        out.writeInstantMicros(ChangeEvent.unixMicros(848634865947366L));
        out.write((byte) ' ');
        out.writeInstantMicros(1_795_342_530_000_000L);
        out.write((byte) ' ');
        out.writeInstantMicros(-1L);
        out.write((byte) ' ');
        out.writeInstantMicros(951_782_400_000_007L);   // 2000-02-29, a leap day
        assertThat(out.toString()).isEqualTo("\"2026-11-22T03:54:25.947366Z\" \"2026-11-22T10:15:30.000000Z\" "
                + "\"1969-12-31T23:59:59.999999Z\" \"2000-02-29T00:00:00.000007Z\"");
    }
}
