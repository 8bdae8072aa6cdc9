package io.pgrelay.agent.leader;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgrelay.agent.config.ConfigLoader;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.event.BuiltinTypes;
import io.pgrelay.agent.event.RowEncoders;
import io.pgrelay.agent.pipeline.HotPathRehearsal;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The standby's rehearsal of the per-event path runs in every format, touches nothing outside, and stops when told. */
class HotPathRehearsalTest {

    private static PgRelayConfig config(String agent, String kafka) {
        return new ConfigLoader(Map.<String, String>of()::get, () -> "host-1").parse(
                "cluster: demo\nagent: { id: a1" + agent + " }\n"
                        + "postgres: { url: 'jdbc:postgresql://db:5432/app', user: replicator, tls: { mode: disable } }\n"
                        + "kafka: { bootstrapServers: 'k1:9092'" + kafka + " }\n", "config.yaml");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ", format: debezium", ", format: debezium, serialization: json-schema",
            ", format: debezium, serialization: avro, schemaRegistry: { url: 'http://127.0.0.1:1' }"})
    void everyFormatRunsTheWholeSyntheticStream(String format) {
        PgRelayConfig config = config("", format);
        AtomicInteger registered = new AtomicInteger();
        var encoder = RowEncoders.of(config, BuiltinTypes.CATALOG, (subject, schema, context) -> registered.incrementAndGet());

        HotPathRehearsal.Result r = new HotPathRehearsal(LeaderSettings.pipeline(config), encoder).run(300, () -> true);

        assertThat(r.events()).isEqualTo(3_000);
        assertThat(r.interrupted()).isFalse();
        assertThat(r.bytes()).as("records were encoded").isGreaterThan(3_000L * 50);
        if (format.contains("avro")) {
            assertThat(registered.get()).as("the made-up registrar gave the schema ids").isPositive();
        }
    }

    @Test
    void stopsBetweenTransactionsOnceItShouldNoLonger() {
        PgRelayConfig config = config("", "");
        AtomicInteger asked = new AtomicInteger();
        HotPathRehearsal.Result r = new HotPathRehearsal(LeaderSettings.pipeline(config), RowEncoders.of(config, BuiltinTypes.CATALOG, null))
                .run(1_000, () -> asked.incrementAndGet() <= 5);

        assertThat(r.events()).isEqualTo(50);
        assertThat(r.interrupted()).isTrue();
    }

    @Test
    void warmUpIsOffUnlessTurnedOn() {
        assertThat(config("", "").agent().warmUp()).isFalse();
        assertThat(config(", warmUp: true", "").agent().warmUp()).isTrue();
    }
}
