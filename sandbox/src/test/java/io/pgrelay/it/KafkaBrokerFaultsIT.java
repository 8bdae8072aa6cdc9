package io.pgrelay.it;

import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.AgentLog;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.server.KafkaCluster;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three agents streaming into a three-broker KRaft cluster (each broker its own process, replication
 * factor 3, {@code min.insync.replicas} 2) under a steady load of 1,000 rows a second, while brokers
 * are SIGKILLed and started again: the leader of the busiest partition, the transaction coordinator
 * of the cluster's transactional id, and a broker kept down longer than the producer's transaction
 * timeout. Nothing lost or duplicated for a read_committed consumer, each key's versions in order,
 * epochs never go back in any partition, and the leading agent's log names what it waited for.
 */
@Tag("drill")   // a long drill: ./mvnw verify -Pdrills
@ExtendWith(SandboxExtension.class)
class KafkaBrokerFaultsIT {

    /** The producer's transaction timeout here (pgrelay's default is 10 minutes): scenario 3 outlasts it. */
    private static final int TRANSACTION_TIMEOUT_MS = 15_000;
    private static final int PARTITIONS = 3;

    private final Sandbox sandbox = Sandbox.shared();

    private record Fault(String what, KafkaCluster.Broker broker, long downMillis) {
    }

    @Test
    void brokerCrashesLoseDuplicateAndReorderNothing() throws Exception {
        long testStart = System.nanoTime();
        String name = ItSupport.uniqueCluster("kbrokers");
        String table = "public." + name + "_load";
        String topic = name + "." + table;
        String transactionalId = "pgrelay-" + name;
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AtomicBoolean stop = new AtomicBoolean();
        AgentConfigs configs = null;
        List<String> report = new ArrayList<>();
        try (KafkaCluster kafka = KafkaCluster.start(3)) {
            System.out.printf("KafkaBrokerFaultsIT: three brokers up after %d ms%n", (System.nanoTime() - testStart) / 1_000_000);
            configs = new AgentConfigs(sandbox, name).tables(table).bootstrapServers(kafka.bootstrapServers())
                    .kafka("partitions: " + PARTITIONS)
                    .producer("transaction.timeout.ms", String.valueOf(TRANSACTION_TIMEOUT_MS));
            try (Cluster cluster = Cluster.start(configs, 3);
                 LiveConsumer consumer = new LiveConsumer(kafka.bootstrapServers(), topic)) {
                CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 50, 5, 1_000, stop));
                Cluster.Member leader = cluster.awaitLeader(60_000);
                long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
                ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(60), () -> consumer.maxEpoch() >= epoch);
                assertThat(kafka.inSyncReplicas(topic).values()).as("replicas of " + topic).allMatch(isr -> isr.size() == 3);

                // 1. The leader of the busiest partition.
                TopicPartition busiest = kafka.busiestPartition(topic);
                report.add(fault(kafka, cluster, consumer, topic,
                        new Fault("leader of " + busiest, kafka.leaderOf(busiest), 0)));

                // 2. The transaction coordinator of pgrelay's transactional id.
                report.add(fault(kafka, cluster, consumer, topic,
                        new Fault("transaction coordinator of " + transactionalId, kafka.coordinatorOf(transactionalId), 0)));

                // 3. A broker down for longer than the transaction timeout: the one leading the busiest partition now.
                busiest = kafka.busiestPartition(topic);
                report.add(fault(kafka, cluster, consumer, topic, new Fault("leader of " + busiest + ", down "
                        + (TRANSACTION_TIMEOUT_MS + 5_000) + " ms", kafka.leaderOf(busiest), TRANSACTION_TIMEOUT_MS + 5_000)));

                Thread.sleep(2_000);
                stop.set(true);
                writes.get();
                Verdict verdict;
                try (Connection c = connect()) {
                    verdict = consumer.awaitVerdict(c, table);
                }
                List<ConsumerRecord<String, String>> records = consumer.records();
                Map<Integer, List<ConsumerRecord<String, String>>> byPartition = records.stream()
                        .collect(Collectors.groupingBy(ConsumerRecord::partition));
                byPartition.values().forEach(FailoverIT::assertEpochsNeverGoBack);
                long terms = records.stream().map(r -> ItSupport.header(r, "pgrelay.epoch")).distinct().count();
                report.forEach(line -> System.out.println("KafkaBrokerFaultsIT: " + line));
                System.out.printf("KafkaBrokerFaultsIT: %d rows inserted, %d pgrelay term(s); %s; %d s in all%n",
                        load.inserted(), terms, verdict, (System.nanoTime() - testStart) / 1_000_000_000);
                for (Cluster.Member m : cluster.members()) {
                    m.process().log().lines().filter(l -> l.contains("io.pgrelay") && (l.contains(" WARN ") || l.contains(" ERROR "))
                            || l.contains("streaming as leader")).limit(40).forEach(l -> System.out.println("  " + m.id() + ": " + l));
                }
                assertThat(verdict.clean()).as(verdict.toString()).isTrue();
                assertThat(terms).as("pgrelay terms: a broker's loss needs no takeover").isEqualTo(1);
                // nobody fenced: not the leader by a broker's loss, nor at the start the agent that created the slot
                // and records its origin (a leader elected before that commit fenced it)
                for (Cluster.Member m : cluster.members()) {
                    assertThat(m.process().log().lines()).as(m.id() + "'s log").noneMatch(l -> l.contains("fenced by a newer leader"));
                }
            }
        } finally {
            stop.set(true);
            if (configs != null) {
                ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            }
        }
    }

    /**
     * SIGKILLs the fault's broker, waits until a record sent after the kill reaches the consumer,
     * keeps the broker down for at least {@code downMillis}, starts it again and waits until it is
     * back in sync. Returns one line for the report.
     */
    private String fault(KafkaCluster kafka, Cluster cluster, LiveConsumer consumer, String topic, Fault f) throws Exception {
        Cluster.Member leader = cluster.awaitLeader(30_000);
        long killedAtMillis = System.currentTimeMillis();
        long t0 = System.nanoTime();
        System.out.printf("KafkaBrokerFaultsIT: SIGKILL %s, %s, at %s%n", f.broker(), f.what(), java.time.Instant.ofEpochMilli(killedAtMillis));
        f.broker().kill();
        ItSupport.await("a record sent after " + f.broker() + " was killed", Duration.ofSeconds(60),
                () -> consumer.firstArrivalSentAfter(killedAtMillis).isPresent());
        long streamingAgainMs = (consumer.firstArrivalSentAfter(killedAtMillis).getAsLong() - t0) / 1_000_000;
        long downFor = (System.nanoTime() - t0) / 1_000_000;
        if (downFor < f.downMillis()) {
            Thread.sleep(f.downMillis() - downFor);
        }
        long restartedAt = System.nanoTime();
        f.broker().start();
        kafka.awaitBrokers(List.of(f.broker()), 120_000);
        kafka.awaitFullIsr(topic, 3, 120_000);
        long backInSyncMs = (System.nanoTime() - restartedAt) / 1_000_000;
        // what the leader said it waited for: its own line, not the producer's retry warnings
        List<String> waited = leader.process().log().lines()
                .filter(l -> l.contains("Kafka took") && AgentLog.timestamp(l) >= killedAtMillis).toList();
        assertThat(waited).as(leader.id() + "'s log after SIGKILL of " + f.broker())
                .anyMatch(l -> l.contains("broker " + f.broker().id() + " ("));
        return String.format("streaming again %d ms after SIGKILL of %s (%s); restarted after %d ms down, back in sync %d ms later;"
                + " %s logged:%n    %s", streamingAgainMs, f.broker(), f.what(), Math.max(downFor, f.downMillis()), backInSyncMs,
                leader.id(), String.join("\n    ", waited));
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
