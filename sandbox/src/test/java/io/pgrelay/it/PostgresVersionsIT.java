package io.pgrelay.it;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.server.Postgres;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent against each PostgreSQL the sandbox offers, 17 (the default, which every other IT uses)
 * included: on 17 and later the slot must be a failover slot, and 17 is where most users are.
 */
@ExtendWith(SandboxExtension.class)
class PostgresVersionsIT {

    private final Sandbox sandbox = Sandbox.shared();

    @ParameterizedTest(name = "PostgreSQL {0}")
    @ValueSource(ints = {15, 16, 17, 18})
    void changesStreamFromEverySupportedVersion(int major) throws Exception {
        try (Postgres pg = Postgres.start(major)) {
            try (Connection c = pg.connect(); ResultSet rs = c.createStatement().executeQuery("SHOW server_version_num")) {
                rs.next();
                assertThat(rs.getInt(1) / 10000).isEqualTo(major);
            }
            String cluster = ItSupport.uniqueCluster("pg" + major);
            String table = "public." + cluster + "_t";
            pg.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, status text)");
            AgentConfigs configs = new AgentConfigs(sandbox, cluster).postgres(pg).tables(table);
            try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
                // Rows written before the agent created the slot are not in it: wait until it streams.
                ItSupport.await("the agent holding slot " + configs.slot() + " on PostgreSQL " + major, Duration.ofSeconds(60),
                        () -> slotActive(pg, configs.slot()));
                pg.execute("INSERT INTO " + table + " VALUES (1, 'new')",
                        "UPDATE " + table + " SET status = 'paid' WHERE id = 1",
                        "DELETE FROM " + table + " WHERE id = 1");
                try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + table)) {
                    List<ConsumerRecord<String, String>> records = reader.readAtLeast(4, Duration.ofSeconds(60));
                    assertThat(records).as(agent.log()).hasSize(4);
                    assertThat(records.stream().map(r -> r.value() == null ? "tombstone" : ItSupport.json(r.value()).get("op").asText()))
                            .containsExactly("insert", "update", "delete", "tombstone");
                    assertThat(ItSupport.json(records.get(1).value()).get("after").get("status").asText()).isEqualTo("paid");
                }
                if (major >= 17) {
                    try (Connection c = pg.connect(); ResultSet rs = c.createStatement().executeQuery(
                            "SELECT failover FROM pg_replication_slots WHERE slot_name = '" + configs.slot() + "'")) {
                        assertThat(rs.next() && rs.getBoolean(1)).as("created as a failover slot").isTrue();
                    }
                }
            }
        }
    }

    private static boolean slotActive(Postgres pg, String slot) {
        try (Connection c = pg.connect();
             ResultSet rs = c.createStatement().executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
            return rs.next() && rs.getBoolean(1);
        } catch (java.sql.SQLException e) {
            return false;
        }
    }
}
