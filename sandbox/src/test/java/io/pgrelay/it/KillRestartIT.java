package io.pgrelay.it;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import io.pgrelay.sandbox.demo.Verdict;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The no-loss, no-duplicate guarantee through crashes: an agent process is SIGKILLed at random
 * moments while 200,000 rows (plus updates) are written, and restarted each time.
 */
@ExtendWith(SandboxExtension.class)
class KillRestartIT {

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void sigkillAtRandomMomentsLosesNothingAndDuplicatesNothing() throws Exception {
        String cluster = ItSupport.uniqueCluster("kill");
        String table = "public." + cluster + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        Random random = new Random(42);
        int kills = 0;
        try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
            ItSupport.awaitSlotActive(sandbox, configs.slot(), Duration.ofSeconds(30));
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> load.write(200_000, 500, 50, 25_000,
                    new java.util.concurrent.atomic.AtomicBoolean()));
            while (!writing.isDone()) {
                Thread.sleep(700 + random.nextInt(1500));
                agent.kill();
                kills++;
                agent.start();
            }
            writing.get();
            Map<Long, Integer> versions;
            try (Connection c = connect()) {
                versions = Verdict.finalVersions(c, table);
            }
            long expected = Verdict.expectedEvents(versions);
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                reader.readAtLeast((int) expected, Duration.ofSeconds(120));
                List<ConsumerRecord<String, String>> records = reader.drain(Duration.ofSeconds(3));
                Verdict verdict = Verdict.of(records, versions);
                System.out.printf("KillRestartIT: %d kills, %d rows, %d updates, %s%n", kills, load.inserted(), load.updated(), verdict);
                assertThat(kills).isGreaterThanOrEqualTo(5);
                assertThat(verdict.clean()).as(verdict + "\n" + agent.log()).isTrue();
                assertThat(Lsns.positions(records)).as("positions strictly increase: commit order, no repeats")
                        .isSorted().doesNotHaveDuplicates();
            }
        } finally {
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
