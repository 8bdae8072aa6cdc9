package io.pgrelay.dashboard;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SeriesTest {

    @Test
    void ringKeepsTheNewestSamplesOldestFirstWithUnknownsAsNull() {
        Series s = new Series(3);
        for (int i = 1; i <= 5; i++) {
            s.add(i * 1000L, i * 10, i == 4 ? Double.NaN : 0.5, 2.25);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        s.writeTo(out, 0);
        assertThat(out.toString()).isEqualTo(
                "{\"t\":[3000,4000,5000],\"lagBytes\":[30,40,50],\"lagSeconds\":[0.5,null,0.5],\"eventsPerSecond\":[2.25,2.25,2.25]}");
        ObjectNode since = JsonNodeFactory.instance.objectNode();
        s.writeTo(since, 4000);
        assertThat(since.path("t").toString()).isEqualTo("[5000]");
    }
}
