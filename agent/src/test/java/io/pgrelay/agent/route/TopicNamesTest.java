package io.pgrelay.agent.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.core.TableId;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicNamesTest {

    private final TopicNames names = new TopicNames("demo", Map.of(TableId.parse("public.orders"), "orders.v1"));

    @Test
    void explicitMappingWins() {
        assertThat(names.topicFor(TableId.parse("public.orders"))).isEqualTo("orders.v1");
    }

    @Test
    void defaultTopicIsPrefixSchemaTableSanitized() {
        assertThat(names.topicFor(TableId.parse("public.items"))).isEqualTo("demo.public.items");
        assertThat(names.topicFor(TableId.parse("\"Odd\"\".Schema\".\"T 1\""))).isEqualTo("demo.Odd_.Schema.T_1");
        assertThat(names.topicFor(TableId.parse("\"Ünï\".t"))).isEqualTo("demo._n_.t");
    }

    @Test
    void invalidNamesSayWhy() {
        assertThat(TopicNames.invalidReason("ok.name-1_x")).isNull();
        assertThat(TopicNames.invalidReason("..")).isNotNull();
        assertThat(TopicNames.invalidReason("a b")).contains("not a valid topic name");
        assertThat(TopicNames.invalidReason("x".repeat(250))).contains("249");
    }
}
