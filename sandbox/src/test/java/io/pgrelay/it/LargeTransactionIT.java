package io.pgrelay.it;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounded memory: one PostgreSQL transaction of 1,000,000 rows through agents with a 256 MB heap,
 * with a standby watching — which must not mistake the busy leader for a hung one; and wide rows,
 * which must not fill the heap however many of them wait between reading and Kafka.
 */
@ExtendWith(SandboxExtension.class)
class LargeTransactionIT {

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void millionRowTransactionPassesThroughA256MbHeapWithoutAFalseFailover() throws Exception {
        String cluster = ItSupport.uniqueCluster("big");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        try (Cluster agents = Cluster.start(configs, 2, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError")) {
            Cluster.Member leader = agents.awaitLeader(30_000);
            long t0 = System.nanoTime();
            sandbox.postgres().execute("INSERT INTO " + table
                    + " SELECT g, repeat('x', 100) || g FROM generate_series(1, 1000000) g");
            BitSet ids = new BitSet(1_000_001);
            Set<String> epochs = new HashSet<>();
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                long seen = reader.forEach(1_000_000, Duration.ofSeconds(240), r -> {
                    ids.set(ItSupport.json(r.value()).get("after").get("id").asInt());
                    epochs.add(ItSupport.header(r, "pgrelay.epoch"));
                });
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("LargeTransactionIT: 1,000,000 rows in one transaction through -Xmx256m in %.1f s, epochs %s%n",
                        seconds, epochs);
                assertThat(seen).as(leader.process().log()).isEqualTo(1_000_000);
            }
            assertThat(ids.cardinality()).isEqualTo(1_000_000);
            assertThat(epochs).as("the standby never took over from the busy leader").hasSize(1);
            for (Cluster.Member m : agents.members()) {
                assertThat(m.process().isAlive()).as(m.id() + " survived with a 256 MB heap").isTrue();
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    @Test
    void wideRowsPassThroughASmallHeap() throws Exception {
        String cluster = ItSupport.uniqueCluster("wide");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        int rows = 2_000;   // 300 KB each as pgoutput sends them: ~600 MB, several times the heap
        try (Cluster agents = Cluster.start(configs, 1, "-Xmx128m", "-XX:+ExitOnOutOfMemoryError")) {
            Cluster.Member leader = agents.awaitLeader(30_000);
            long t0 = System.nanoTime();
            sandbox.postgres().execute("INSERT INTO " + table
                    + " SELECT g, repeat(md5(g::text), 300000 / 32) FROM generate_series(1, " + rows + ") g");
            BitSet ids = new BitSet(rows + 1);
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                long seen = reader.forEach(rows, Duration.ofSeconds(180), r -> {
                    var after = ItSupport.json(r.value()).get("after");
                    assertThat(after.get("payload").asText()).hasSize(300000 / 32 * 32);
                    ids.set(after.get("id").asInt());
                });
                System.out.printf("LargeTransactionIT: %d rows of 300 KB through -Xmx128m in %.1f s%n", rows,
                        (System.nanoTime() - t0) / 1e9);
                assertThat(seen).as(leader.process().log()).isEqualTo(rows);
            }
            assertThat(ids.cardinality()).isEqualTo(rows);
            assertThat(leader.process().isAlive()).as("survived with a 128 MB heap").isTrue();
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }
}
