package io.pgrelay.it;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.sandbox.AgentConfigs;
import io.pgrelay.sandbox.AgentProcess;
import io.pgrelay.sandbox.Kafka;
import io.pgrelay.sandbox.Postgres;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka is down when the agent starts: the agent waits and retries — one log line per attempt, the
 * slot not advanced, its replication connection kept alive while it holds the slot — and once a
 * broker answers on that address every row arrives exactly once.
 */
@ExtendWith(SandboxExtension.class)
class KafkaOutageIT {

    /** Short, so that a walsender left without status updates during the outage would be ended by PostgreSQL. */
    private static final Duration WAL_SENDER_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration OUTAGE = Duration.ofSeconds(15);

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void unreachableKafkaIsRetriedWithoutAdvancingTheSlotThenEveryRowArrivesOnce() throws Exception {
        String cluster = ItSupport.uniqueCluster("outage");
        String table = "public." + cluster + "_t";
        int kafkaPort = ItSupport.freePort();
        try (Postgres pg = Postgres.start("wal_sender_timeout", WAL_SENDER_TIMEOUT.toMillis() + "ms")) {
            pg.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, note text)");
            AgentConfigs configs = new AgentConfigs(sandbox, cluster).postgres(pg).tables(table)
                    .bootstrapServers("127.0.0.1:" + kafkaPort);
            // The agent creates no slot while Kafka is down (whether the cluster streamed before is
            // recorded there): the slot is made by hand, and the agent leads on it and waits for Kafka.
            pg.execute("SELECT pg_create_logical_replication_slot('" + configs.slot() + "', 'pgoutput')");
            Kafka kafka = null;
            try (AgentProcess agent = ItSupport.startAgent(configs, "agent-1")) {
                ItSupport.await("slot " + configs.slot() + " held by the agent", Duration.ofSeconds(30),
                        () -> "t".equals(query(pg, "SELECT active FROM pg_replication_slots WHERE slot_name = '"
                                + configs.slot() + "'")));
                String confirmedBefore = confirmedFlushLsn(pg, configs.slot());
                for (int id = 1; id <= 5; id++) {
                    pg.execute("INSERT INTO " + table + " VALUES (" + id + ", 'alone')");
                }
                pg.execute("BEGIN; INSERT INTO " + table + " VALUES (6, 'together'), (7, 'together'), (8, 'together'); COMMIT;");

                // The outage: watch the agent, the slot and its walsender.
                long outageEnds = System.nanoTime() + OUTAGE.toNanos();
                String walsender = null;
                long heldSince = 0;
                long longestHeldMillis = 0;
                while (System.nanoTime() < outageEnds) {
                    assertThat(agent.isAlive()).as("agent alive during the outage\n" + agent.log()).isTrue();
                    assertThat(confirmedFlushLsn(pg, configs.slot())).as("slot not advanced during the outage")
                            .isEqualTo(confirmedBefore);
                    String pid = query(pg, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + configs.slot() + "'");
                    long now = System.nanoTime();
                    if (pid == null || !pid.equals(walsender)) {
                        walsender = pid;
                        heldSince = now;
                    } else {
                        longestHeldMillis = Math.max(longestHeldMillis, (now - heldSince) / 1_000_000);
                    }
                    Thread.sleep(250);
                }
                String outageLog = agent.log();
                List<String> problems = outageLog.lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
                System.out.printf("KafkaOutageIT: %d retry lines in %d s; one walsender held the slot for up to %d ms%n",
                        problems.size(), OUTAGE.toSeconds(), longestHeldMillis);
                assertThat(problems).as(outageLog).isNotEmpty().allSatisfy(line -> assertThat(line)
                        .contains(" WARN ", "io.pgrelay.agent.Streamer - slot " + configs.slot()
                                + ": kafka: no broker at 127.0.0.1:" + kafkaPort + " answered within", "; retrying in "));
                assertThat(outageLog).doesNotContain("\tat ", "Caused by", "replication timeout");
                assertThat(longestHeldMillis).as("one walsender held the slot past wal_sender_timeout (status updates kept it)"
                        + "\n" + outageLog).isGreaterThan(WAL_SENDER_TIMEOUT.toMillis() + 1000);

                // Kafka comes back on the address the agent was given.
                kafka = Kafka.start(kafkaPort);
                List<ConsumerRecord<String, String>> records;
                try (TopicReader reader = new TopicReader(kafka.bootstrapServers(), cluster + "." + table)) {
                    reader.readAtLeast(8, Duration.ofSeconds(60));
                    records = reader.drain(Duration.ofSeconds(2));
                }
                assertThat(records).as(agent.log()).hasSize(8);
                assertThat(records.stream().map(r -> ItSupport.json(r.value()).get("after").get("id").asInt()))
                        .containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
                Lsn lastCommit = Lsns.positions(records).get(7).commitLsn();
                ItSupport.await("confirmed_flush_lsn past the rows' commit LSN " + lastCommit, Duration.ofSeconds(30),
                        () -> Lsn.parse(confirmedFlushLsn(pg, configs.slot())).isAfter(lastCommit));
                assertThat(agent.isAlive()).isTrue();
                agent.stop(15);
            } finally {
                if (kafka != null) {
                    kafka.close();
                }
            }
        }
    }

    private static String confirmedFlushLsn(Postgres pg, String slot) {
        return query(pg, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    private static String query(Postgres pg, String sql) {
        try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
