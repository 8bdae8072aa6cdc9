package io.pgrelay.it;

import io.pgrelay.sandbox.AgentConfigs;
import io.pgrelay.sandbox.AgentProcess;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.TopicReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.BitSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Bounded memory: one PostgreSQL transaction of 1,000,000 rows through an agent with a 256 MB heap. */
@ExtendWith(SandboxExtension.class)
class LargeTransactionIT {

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void millionRowTransactionPassesThroughA256MbHeap() throws Exception {
        String cluster = ItSupport.uniqueCluster("big");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1", "-Xmx256m", "-XX:+ExitOnOutOfMemoryError")) {
            ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
            long t0 = System.nanoTime();
            sandbox.postgres().execute("INSERT INTO " + table
                    + " SELECT g, repeat('x', 100) || g FROM generate_series(1, 1000000) g");
            BitSet ids = new BitSet(1_000_001);
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                long seen = reader.forEach(1_000_000, Duration.ofSeconds(240),
                        r -> ids.set(ItSupport.json(r.value()).get("after").get("id").asInt()));
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("LargeTransactionIT: 1,000,000 rows in one transaction through -Xmx256m in %.1f s%n", seconds);
                assertThat(seen).as(agent.log()).isEqualTo(1_000_000);
            }
            assertThat(ids.cardinality()).isEqualTo(1_000_000);
            assertThat(agent.isAlive()).as("agent survived with 256 MB heap").isTrue();
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }
}
