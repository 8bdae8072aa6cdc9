package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.demo.Verdict;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** Three agent processes under continuous load; leaders killed, hung and asked to hand over. */
@ExtendWith(SandboxExtension.class)
class FailoverIT {

    private static final String TOKEN = "s3cret-admin-token";
    private final Sandbox sandbox = Sandbox.shared();

    private record Setup(String cluster, String table, AgentConfigs configs, LoadGenerator load) {
    }

    private Setup setup(String prefix, String mode) {
        String cluster = ItSupport.uniqueCluster(prefix);
        String table = "public." + cluster + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).mode(mode).tables(table).adminToken(TOKEN);
        return new Setup(cluster, table, configs, load);
    }

    /**
     * Leader kills per mode. The suite runs 4 to stay inside its time budget; the published figures
     * come from {@code -Dfailover.kills=10} (FailoverIT alone) and from {@code scripts/failover-drill}.
     */
    private static final int KILLS = Integer.getInteger("failover.kills", 4);

    /** How long the hung leader stays stopped: past its 5 s hangTimeout and 2 s ZooKeeper session. */
    private static final long HANG_MS = 15_000;

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void killingTheLeaderRepeatedlyLosesAndDuplicatesNothing(String mode) throws Exception {
        Setup s = setup("kill" + mode.charAt(0), mode);
        AtomicBoolean stopLoad = new AtomicBoolean();
        List<Long> takeovers = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        try (Cluster cluster = Cluster.start(s.configs(), 3);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), s.cluster() + "." + s.table())) {
            cluster.awaitLeader(30_000);
            CompletableFuture<Void> load = CompletableFuture.runAsync(
                    () -> s.load().write(Long.MAX_VALUE, 50, 5, 2_000, stopLoad));
            for (int kill = 0; kill < KILLS; kill++) {
                Cluster.Member leader = cluster.awaitLeader(30_000);
                // a takeover needs a standby: wait until the agent killed last time is back and ready
                ItSupport.await("every agent ready", Duration.ofSeconds(30), () -> cluster.members().stream()
                        .allMatch(FailoverIT::ready));
                long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
                ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
                long t0 = System.nanoTime();
                long killedAt = System.currentTimeMillis();
                System.out.printf("FailoverIT %s: SIGKILL %s at %s%n", mode, leader.id(), java.time.Instant.ofEpochMilli(killedAt));
                leader.process().kill();
                ItSupport.await("a new leader's first record after killing " + leader.id(), Duration.ofSeconds(30),
                        () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
                takeovers.add((consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000);
                sent.add(consumer.firstTimestampAfterEpoch(epoch).getAsLong() - killedAt);
                leader.process().start();
            }
            stopLoad.set(true);
            load.get();
            Map<Long, Integer> versions = finalVersions(s.table());
            long expected = Verdict.expectedEvents(versions);
            ItSupport.await("all " + expected + " events", Duration.ofSeconds(60), () -> consumer.size() >= expected);
            Thread.sleep(2000);
            Verdict verdict = Verdict.of(consumer.records(), versions);
            List<Long> sorted = new ArrayList<>(takeovers);
            Collections.sort(sorted);
            List<Long> sortedSent = new ArrayList<>(sent);
            Collections.sort(sortedSent);
            System.out.printf("FailoverIT %s: SIGKILL to the new leader's first record sent (ms) %s; median %d, worst %d%n",
                    mode, sent, sortedSent.get(sortedSent.size() / 2), sortedSent.get(sortedSent.size() - 1));
            System.out.printf("FailoverIT %s: SIGKILL to a read_committed consumer's first record of the new leader (ms) %s;"
                    + " median %d, worst %d; %s%n",
                    mode, takeovers, sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), verdict);
            // where each takeover went, from the agents' logs
            for (Cluster.Member m : cluster.members()) {
                m.process().log().lines().filter(l -> l.contains("streaming as leader") || l.contains(" leads cluster")
                        || l.contains("not ready to lead") || l.contains("i.p.") || l.contains("io.pgrelay")).forEach(l -> System.out.println("  " + m.id() + ": " + l));
            }
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
            assertThat(Lsns.positions(consumer.records())).isSorted().doesNotHaveDuplicates();
            assertEpochsNeverGoBack(consumer.records());
        } finally {
            stopLoad.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, s.configs().slot());
        }
    }

    @Tag("drill")   // ./mvnw verify -Pdrills
    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void hungLeaderIsReplacedAndTheZombieCommitsNothing(String mode) throws Exception {
        // In zookeeper mode a 15 s SIGSTOP outlives the 2 s session: this is the leader's session expiring.
        Setup s = setup("hang" + mode.charAt(0), mode);
        AtomicBoolean stopLoad = new AtomicBoolean();
        try (Cluster cluster = Cluster.start(s.configs(), 3);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), s.cluster() + "." + s.table())) {
            Cluster.Member leader = cluster.awaitLeader(30_000);
            CompletableFuture<Void> load = CompletableFuture.runAsync(
                    () -> s.load().write(Long.MAX_VALUE, 50, 5, 2_000, stopLoad));
            long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
            ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
            long t0 = System.nanoTime();
            leader.process().pause();
            ItSupport.await("a standby's first record while " + leader.id() + " hangs", Duration.ofSeconds(30),
                    () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
            long takeoverMs = (consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000;
            long pausedFor = (System.nanoTime() - t0) / 1_000_000;
            Thread.sleep(Math.max(0, HANG_MS - pausedFor));
            leader.process().resume();
            ItSupport.await(leader.id() + " back as a standby", Duration.ofSeconds(30), () -> AgentHttp.status(leader.url())
                    .map(j -> "standby".equals(j.path("role").asText())).orElse(false));
            Thread.sleep(2000);
            stopLoad.set(true);
            load.get();
            Map<Long, Integer> versions = finalVersions(s.table());
            long expected = Verdict.expectedEvents(versions);
            ItSupport.await("all events", Duration.ofSeconds(60), () -> consumer.size() >= expected);
            Thread.sleep(1000);
            List<ConsumerRecord<String, String>> records = consumer.records();
            assertEpochsNeverGoBack(records);
            Verdict verdict = Verdict.of(records, versions);
            System.out.printf("FailoverIT hang %s: takeover %d ms after SIGSTOP (hangTimeout 5 s, session 2 s); %s%n",
                    mode, takeoverMs, verdict);
            assertThat(takeoverMs).isLessThan(10_000);
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
        } finally {
            stopLoad.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, s.configs().slot());
        }
    }

    /** Handovers per mode in {@link #handoverMovesLeadershipToTheNamedAgent}, for a median. */
    private static final int HANDOVERS = 7;

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void handoverMovesLeadershipToTheNamedAgent(String mode) throws Exception {
        Setup s = setup("hand" + mode.charAt(0), mode);
        AtomicBoolean stopLoad = new AtomicBoolean();
        try (Cluster cluster = Cluster.start(s.configs(), 3);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), s.cluster() + "." + s.table())) {
            Cluster.Member leader = cluster.awaitLeader(30_000);
            Cluster.Member target = cluster.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
            Cluster.Member other = cluster.members().stream().filter(m -> m != leader && m != target).findFirst().orElseThrow();
            ItSupport.await("all members registered", Duration.ofSeconds(20), () -> AgentHttp.status(other.url()).isPresent());
            CompletableFuture<Void> load = CompletableFuture.runAsync(
                    () -> s.load().write(Long.MAX_VALUE, 20, 2, 2_000, stopLoad));
            long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
            ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);

            String body = "{\"to\":\"" + target.id() + "\"}";
            assertThat(AgentHttp.post(leader.url(), "/admin/handover", body, null).status()).isEqualTo(401);
            assertThat(AgentHttp.post(leader.url(), "/admin/handover", body, "wrong").status()).isEqualTo(401);
            assertThat(AgentHttp.post(other.url(), "/admin/handover", body, TOKEN).status()).isEqualTo(409);
            AgentHttp.Response unknown = AgentHttp.post(leader.url(), "/admin/handover", "{\"to\":\"agent-99\"}", TOKEN);
            assertThat(unknown.status()).isEqualTo(400);
            assertThat(unknown.body()).contains("agent-99").doesNotContain("Exception");

            // Several handovers in a row, each to the next agent round the cluster (the agent that
            // just handed over is held back, but a handover naming it overrides that).
            List<Cluster.Member> order = new java.util.ArrayList<>(List.of(leader, target, other));
            for (int i = 0; i < HANDOVERS; i++) {
                Cluster.Member from = order.get(i % 3);
                Cluster.Member to = order.get((i + 1) % 3);
                // as before a planned handover in production: the target is ready (its Kafka clients prepared)
                ItSupport.await(to.id() + " ready", Duration.ofSeconds(30), () -> ready(to));
                long before = AgentHttp.status(from.url()).orElseThrow().path("epoch").asLong();
                AgentHttp.Response accepted = AgentHttp.post(from.url(), "/admin/handover", "{\"to\":\"" + to.id() + "\"}", TOKEN);
                assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
                ItSupport.await(to.id() + " leads", Duration.ofSeconds(15), () -> AgentHttp.status(to.url())
                        .map(j -> "leader".equals(j.path("role").asText())).orElse(false));
                ItSupport.await("records of the epoch after " + before, Duration.ofSeconds(15),
                        () -> consumer.firstArrivalAfterEpoch(before).isPresent());
                Thread.sleep(300);   // the new leader streams for a while before it hands over in turn
            }
            stopLoad.set(true);
            load.get();
            Map<Long, Integer> versions = finalVersions(s.table());
            long expected = Verdict.expectedEvents(versions);
            ItSupport.await("all events", Duration.ofSeconds(60), () -> consumer.size() >= expected);
            Thread.sleep(1000);
            List<ConsumerRecord<String, String>> records = consumer.records();
            // per epoch: its agent, its first and last record's timestamp (one partition: log order)
            Map<Long, long[]> span = new java.util.TreeMap<>();
            Map<Long, String> agentOf = new java.util.HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                long e = Long.parseLong(ItSupport.header(r, "pgrelay.epoch"));
                span.computeIfAbsent(e, k -> new long[] {r.timestamp(), r.timestamp()})[1] = r.timestamp();
                agentOf.putIfAbsent(e, ItSupport.header(r, "pgrelay.agent"));
            }
            List<Long> epochs = new java.util.ArrayList<>(span.keySet());
            assertThat(epochs).as("one epoch per term").hasSize(HANDOVERS + 1);
            List<Long> gaps = new java.util.ArrayList<>();
            for (int i = 1; i < epochs.size(); i++) {
                gaps.add(span.get(epochs.get(i))[0] - span.get(epochs.get(i - 1))[1]);
                assertThat(agentOf.get(epochs.get(i))).as("leader of epoch " + epochs.get(i)).isEqualTo(order.get(i % 3).id());
            }
            assertEpochsNeverGoBack(records);
            Verdict verdict = Verdict.of(records, versions);
            List<Long> sorted = gaps.stream().sorted().toList();
            System.out.printf("FailoverIT handover %s: gap between the old leader's last record and the new one's first, "
                            + "%d handovers: median %d ms, best %d ms, worst %d ms (%s); %s%n",
                    mode, gaps.size(), sorted.get(sorted.size() / 2), sorted.get(0), sorted.get(sorted.size() - 1), gaps, verdict);
            // where the last gap went, from the two agents' logs
            for (Cluster.Member m : List.of(order.get((HANDOVERS - 1) % 3), order.get(HANDOVERS % 3))) {
                m.process().log().lines().filter(l -> l.contains("hands over") || l.contains("stopped;")
                        || l.contains("streaming as leader") || l.contains(" leads cluster")).forEach(l -> System.out.println("  " + m.id() + ": " + l));
            }
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
            JsonNode status = AgentHttp.status(order.get((HANDOVERS - 1) % 3).url()).orElseThrow();
            assertThat(status.path("role").asText()).isEqualTo("standby");
        } finally {
            stopLoad.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, s.configs().slot());
        }
    }

    @Tag("drill")   // ./mvnw verify -Pdrills
    @Test
    void zookeeperRestartUnderLoadLosesAndDuplicatesNothing() throws Exception {
        Setup s = setup("zkrestart", "zookeeper");
        AtomicBoolean stopLoad = new AtomicBoolean();
        try (Cluster cluster = Cluster.start(s.configs(), 3);
             LiveConsumer consumer = new LiveConsumer(sandbox.kafka().bootstrapServers(), s.cluster() + "." + s.table())) {
            Cluster.Member leader = cluster.awaitLeader(30_000);
            CompletableFuture<Void> load = CompletableFuture.runAsync(
                    () -> s.load().write(Long.MAX_VALUE, 50, 5, 2_000, stopLoad));
            long epoch = AgentHttp.status(leader.url()).orElseThrow().path("epoch").asLong();
            ItSupport.await("records of epoch " + epoch, Duration.ofSeconds(30), () -> consumer.maxEpoch() >= epoch);
            sandbox.zookeeper().stop();
            Thread.sleep(4_000);
            sandbox.zookeeper().restart();
            long t0 = System.nanoTime();
            ItSupport.await("records of a new term after ZooKeeper came back", Duration.ofSeconds(60),
                    () -> consumer.firstArrivalAfterEpoch(epoch).isPresent());
            long resumedMs = (consumer.firstArrivalAfterEpoch(epoch).getAsLong() - t0) / 1_000_000;
            Thread.sleep(2000);
            stopLoad.set(true);
            load.get();
            Map<Long, Integer> versions = finalVersions(s.table());
            long expected = Verdict.expectedEvents(versions);
            ItSupport.await("all events", Duration.ofSeconds(60), () -> consumer.size() >= expected);
            Thread.sleep(1000);
            List<ConsumerRecord<String, String>> records = consumer.records();
            assertEpochsNeverGoBack(records);
            Verdict verdict = Verdict.of(records, versions);
            System.out.printf("FailoverIT zookeeper restart: streaming again %d ms after ZooKeeper restarted; %s%n", resumedMs, verdict);
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
            assertThat(cluster.awaitLeader(30_000)).isNotNull();
        } finally {
            stopLoad.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, s.configs().slot());
        }
    }

    /**
     * One leader at a time, seen from Kafka: once a record of a newer epoch is in the topic, no
     * record of an older epoch follows it (a zombie got nothing committed).
     */
    static boolean ready(Cluster.Member m) {
        return Cluster.ready(m);
    }

    static void assertEpochsNeverGoBack(List<ConsumerRecord<String, String>> records) {
        long highest = -1;
        for (int i = 0; i < records.size(); i++) {
            long e = Long.parseLong(ItSupport.header(records.get(i), "pgrelay.epoch"));
            assertThat(e).as("epoch of record %d (offset %d) after epoch %d was seen", i, records.get(i).offset(), highest)
                    .isGreaterThanOrEqualTo(highest);
            highest = e;
        }
    }

    private Map<Long, Integer> finalVersions(String table) throws SQLException {
        try (Connection c = connect()) {
            return Verdict.finalVersions(c, table);
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
