package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.TableId;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WatermarkTest {

    @Test
    void requestNamesSurviveQuotingRoundTrip() {
        List<TableId> tables = List.of(TableId.parse("public.orders"), new TableId("Odd\".S", "T 1"));
        assertThat(Watermark.parseRequest(Watermark.request(tables))).isEqualTo(tables);
    }

    @Test
    void watermarksParseAndForeignContentIsNotOne() {
        assertThat(Watermark.parse(Watermark.low("3-7"))).contains(new Watermark.Mark("3-7", true));
        assertThat(Watermark.parse(Watermark.high("3-7"))).contains(new Watermark.Mark("3-7", false));
        assertThat(Watermark.parse("not json")).isEmpty();
        assertThat(Watermark.parse("{\"chunk\":\"1\",\"w\":\"middle\"}")).isEmpty();
        assertThat(Watermark.parseRequest("{}")).isEmpty();
    }
}
