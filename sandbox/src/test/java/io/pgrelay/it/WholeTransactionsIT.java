package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each PostgreSQL transaction becomes visible to read_committed consumers all at once. A workload
 * commits two-table transactions of 1 to 5,000 rows while the leader is SIGKILLed once and hands
 * over once; topics have 3 partitions. In every partition the records of one PostgreSQL
 * transaction sit at consecutive offsets — a Kafka commit (or abort) marker takes an offset, so a
 * gap would be a Kafka transaction boundary inside it — and the END records' counts match what
 * arrived. One transaction above {@code kafka.maxTransactionBytes} is split, and only that one.
 */
@ExtendWith(SandboxExtension.class)
class WholeTransactionsIT {

    private static final String TOKEN = "whole-token";
    private static final int MAX_TRANSACTION_BYTES = 4 << 20;

    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void everyPostgresTransactionIsOneKafkaTransactionThroughAKillAndAHandover() throws Exception {
        String cluster = ItSupport.uniqueCluster("whole");
        String orders = "public." + cluster + "_orders";
        String items = "public." + cluster + "_items";
        sandbox.postgres().execute(
                "CREATE TABLE " + orders + " (id bigint PRIMARY KEY, note text)",
                "CREATE TABLE " + items + " (id bigint PRIMARY KEY, order_id bigint, note text)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(orders, items).adminToken(TOKEN)
                .snapshot("never", 1000).kafka("partitions: 3").kafka("transactionEvents: true")
                .kafka("maxTransactionBytes: " + MAX_TRANSACTION_BYTES);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong transactions = new AtomicLong();
        try (Cluster agents = Cluster.start(configs, 3)) {
            Cluster.Member first = agents.awaitLeader(60_000);
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> write(orders, items, stop, transactions));
            ItSupport.await("some transactions", Duration.ofSeconds(60), () -> transactions.get() > 20);
            first.process().kill();
            Cluster.Member second = agents.awaitLeader(60_000);
            first.process().start();
            ItSupport.await("more transactions", Duration.ofSeconds(60), () -> transactions.get() > 60);
            // the agent that was never killed: a live, registered standby
            Cluster.Member target = agents.members().stream().filter(m -> m != second && m != first).findFirst().orElseThrow();
            AgentHttp.Response handover = AgentHttp.post(second.url(), "/admin/handover", "{\"to\":\"" + target.id() + "\"}", TOKEN);
            assertThat(handover.status()).as(handover.body()).isEqualTo(202);
            ItSupport.await("more transactions after the handover", Duration.ofSeconds(60), () -> transactions.get() > 100);
            stop.set(true);
            load.get();
            long big = bigTransaction(items);
            Cluster.Member last = agents.awaitLeader(60_000);

            TreeMap<Long, Long> expectedRows = new TreeMap<>();   // xid → rows, from PostgreSQL's side of the workload
            List<ConsumerRecord<String, String>> records;
            try (TopicReader reader = new TopicReader(sandbox.kafka().bootstrapServers(), cluster + "." + orders,
                    cluster + "." + items, cluster + "._transactions")) {
                long rows = Long.parseLong(ItSupport.queryOne(sandbox, "SELECT (SELECT count(*) FROM " + orders + ") + (SELECT count(*) FROM " + items + ")"));
                reader.readUntil(rs -> rs.stream().filter(r -> !r.topic().endsWith("._transactions")).count() >= rows,
                        Duration.ofSeconds(120));
                records = reader.drain(Duration.ofSeconds(2));   // everything read, the above included
            }
            Map<String, List<ConsumerRecord<String, String>>> byTransactionAndPartition = new HashMap<>();
            Map<String, Map<String, Long>> arrived = new HashMap<>();    // commitLsn → table → events
            Map<String, JsonNode> ends = new HashMap<>();
            Map<String, String> endAt = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                String commitLsn = ItSupport.header(r, "pgrelay.commit-lsn");
                if (r.topic().endsWith("._transactions")) {
                    JsonNode t = ItSupport.json(r.value());
                    if (t.path("status").asText().equals("END")) {
                        String at = r.partition() + "@" + r.offset() + " epoch " + ItSupport.header(r, "pgrelay.epoch")
                                + " seq " + ItSupport.header(r, "pgrelay.seq");
                        assertThat(ends.put(commitLsn, t)).as("one END per transaction: " + at + " and " + endAt.get(commitLsn)).isNull();
                        endAt.put(commitLsn, at);
                    }
                    continue;
                }
                byTransactionAndPartition.computeIfAbsent(commitLsn + "@" + r.topic() + "-" + r.partition(), k -> new ArrayList<>()).add(r);
                arrived.computeIfAbsent(commitLsn, k -> new TreeMap<>()).merge(ItSupport.json(r.value()).path("table").asText(), 1L, Long::sum);
            }
            String bigLsn = null;
            long split = 0;
            for (var e : byTransactionAndPartition.entrySet()) {
                List<ConsumerRecord<String, String>> rs = e.getValue();
                long span = rs.get(rs.size() - 1).offset() - rs.get(0).offset() + 1;
                if (span != rs.size()) {
                    split++;
                    bigLsn = e.getKey().substring(0, e.getKey().indexOf('@'));
                }
            }
            for (var e : arrived.entrySet()) {
                JsonNode end = ends.get(e.getKey());
                assertThat(end).as("the END record of the transaction committed at " + e.getKey()).isNotNull();
                Map<String, Long> counts = new TreeMap<>();
                end.path("counts").fields().forEachRemaining(f -> counts.put(f.getKey(), f.getValue().asLong()));
                assertThat(counts).as("END counts of " + e.getKey()).isEqualTo(e.getValue());
            }
            // whichever agent read the big transaction counted it (leadership may have moved since)
            double splitCounted = 0;
            for (Cluster.Member m : agents.members()) {
                if (m.process().isAlive()) {
                    splitCounted += AgentHttp.get(m.url(), "/metrics").body().lines()
                            .filter(l -> l.startsWith("pgrelay_transactions_split_total{"))
                            .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
                }
            }
            System.out.printf("WholeTransactionsIT: %d transactions (+1 of %d rows), %d partition runs, %d with a Kafka"
                    + " transaction boundary inside (the big one: %s)%n", transactions.get(), big, byTransactionAndPartition.size(),
                    split, bigLsn);
            assertThat(arrived).hasSizeGreaterThan(100);
            assertThat(split).as("partition runs of one transaction with a Kafka commit inside: only the big one's").isBetween(1L, 3L);
            assertThat(arrived.get(bigLsn).values().stream().mapToLong(Long::longValue).sum()).isEqualTo(big);
            assertThat(splitCounted).as("pgrelay_transactions_split_total over the agents").isEqualTo(1.0);
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    /** Transactions of one order and 0–4,999 items, a few a second. */
    private void write(String orders, String items, AtomicBoolean stop, AtomicLong transactions) {
        Random random = new Random(7);
        long id = 1;
        try (Connection c = sandbox.postgres().connect()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                int n = random.nextInt(10) == 0 ? random.nextInt(5_000) : random.nextInt(20);
                try (PreparedStatement o = c.prepareStatement("INSERT INTO " + orders + " VALUES (?, 'order')");
                     PreparedStatement i = c.prepareStatement("INSERT INTO " + items + " VALUES (?, ?, 'item')")) {
                    long order = id++;
                    o.setLong(1, order);
                    o.executeUpdate();
                    for (int k = 0; k < n; k++) {
                        i.setLong(1, id++);
                        i.setLong(2, order);
                        i.addBatch();
                    }
                    i.executeBatch();
                }
                c.commit();
                transactions.incrementAndGet();
                Thread.sleep(20);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One transaction of about three times kafka.maxTransactionBytes; returns its rows. */
    private long bigTransaction(String items) {
        int rows = 3 * MAX_TRANSACTION_BYTES / 300;
        sandbox.postgres().execute("INSERT INTO " + items + " SELECT 100000000 + g, 0, repeat('x', 200) FROM generate_series(1, " + rows + ") g");
        return rows;
    }
}
