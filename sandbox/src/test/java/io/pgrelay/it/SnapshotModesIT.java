package io.pgrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentHttp;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import io.pgrelay.sandbox.demo.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshot modes other than SnapshotIT's: {@code snapshot.mode: always} across takeovers (a new
 * snapshot in a new term, the one in progress continued in the next), and the initial snapshot
 * with {@code coordination.mode: zookeeper} and a leader SIGKILLed in the middle of it.
 */
@ExtendWith(SandboxExtension.class)
class SnapshotModesIT {

    private static final long SEED_FROM = 1_000_000;
    private final Sandbox sandbox = Sandbox.shared();

    /**
     * Two tables, snapshotted in name order, three agents. Term 1 snapshots both. Term 2 (after a
     * SIGKILL) snapshots both again, but once it has sent the first table's first chunk the test
     * locks the second table: its turn waits, and term 2 dies (SIGKILL) with the snapshot in
     * progress, the first table done. Term 3 must continue with the second table — not start over, which would
     * send the first table a third time.
     */
    @Test
    void alwaysModeSnapshotsAgainEachTermAndContinuesOneInProgress() throws Exception {
        String cluster = ItSupport.uniqueCluster("snapalw");
        String table = "public." + cluster + "_a_items";
        String later = "public." + cluster + "_b_notes";
        int seeded = 20_000;
        int seededLater = 2_000;
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        new LoadGenerator(this::connect, later).createTable();
        sandbox.postgres().execute(
                "INSERT INTO " + table + " SELECT g, 0, 'seed ' || g FROM generate_series(" + SEED_FROM + ", " + (SEED_FROM + seeded - 1) + ") g",
                "INSERT INTO " + later + " SELECT g, 0, 'seed ' || g FROM generate_series(" + SEED_FROM + ", " + (SEED_FROM + seededLater - 1) + ") g",
                "ANALYZE " + table, "ANALYZE " + later);
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table, later).snapshot("always", 1000);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean passed = new AtomicBoolean();
        try (Cluster agents = Cluster.start(configs, 3);
             SnapshotIT.Rebuild items = new SnapshotIT.Rebuild(sandbox.kafka().bootstrapServers(), cluster + "." + table, true);
             SnapshotIT.Rebuild notes = new SnapshotIT.Rebuild(sandbox.kafka().bootstrapServers(), cluster + "." + later, true);
             AutoCloseable dump = () -> SnapshotIT.dumpLogs(agents, passed);
             Connection lock = connect()) {
            long t0 = System.nanoTime();
            CompletableFuture<Void> inserts = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 10, 2, 300, stop));

            // Term 1: the first snapshot of both tables.
            Cluster.Member first = agents.awaitLeader(60_000);
            long epoch1 = awaitEpochAbove(first, 0);
            ItSupport.await("term 1's snapshot of both tables", Duration.ofSeconds(60),
                    () -> seededKeysIn(items, epoch1, seeded) == seeded && seededKeysIn(notes, epoch1, seededLater) == seededLater);
            ItSupport.await("the first snapshot done", Duration.ofSeconds(30), () -> SnapshotIT.snapshotDone(agents));
            long term1Ms = (System.nanoTime() - t0) / 1_000_000;

            // Term 2: a new snapshot. Once the first table's first chunk is sent, the second table is
            // locked, so that its turn waits. (Not earlier: the request, and the first table's shape,
            // read pg_publication_tables, which opens every published table and would wait too.)
            ItSupport.await("every agent ready", Duration.ofSeconds(30), () -> agents.members().stream().allMatch(FailoverIT::ready));
            first.process().kill();
            long killed1 = System.nanoTime();
            Cluster.Member second = agents.awaitLeader(60_000);
            long epoch2 = awaitEpochAbove(second, epoch1);
            ItSupport.await("term 2 sending " + table, Duration.ofSeconds(30), () -> SnapshotIT.snapshotRows(second) > 0);
            long lockedAfter = SnapshotIT.snapshotRows(second);
            lock.setAutoCommit(false);
            try (Statement s = lock.createStatement()) {
                s.execute("LOCK TABLE " + later + " IN ACCESS EXCLUSIVE MODE");
            }
            ItSupport.await("term 2's snapshot of " + table, Duration.ofSeconds(60), () -> seededKeysIn(items, epoch2, seeded) == seeded);
            long term2Ms = (System.nanoTime() - killed1) / 1_000_000;
            JsonNode waiting = AgentHttp.status(second.url()).orElseThrow().path("snapshot");

            // Term 3: the snapshot in progress continues with the second table.
            second.process().kill();
            lock.rollback();
            long killed2 = System.nanoTime();
            Cluster.Member third = agents.awaitLeader(60_000);
            long epoch3 = awaitEpochAbove(third, epoch2);
            ItSupport.await("term 3's snapshot of " + later, Duration.ofSeconds(60),
                    () -> seededKeysIn(notes, epoch3, seededLater) == seededLater);
            ItSupport.await("the second snapshot done", Duration.ofSeconds(30), () -> SnapshotIT.snapshotDone(agents));
            long term3Ms = (System.nanoTime() - killed2) / 1_000_000;

            stop.set(true);
            inserts.get();
            Map<Long, String> expected = SnapshotIT.tableRows(sandbox, table);
            Map<Long, String> expectedLater = SnapshotIT.tableRows(sandbox, later);
            ItSupport.await("Kafka rebuilt equal to the tables", Duration.ofSeconds(60),
                    () -> items.rows().equals(expected) && notes.rows().equals(expectedLater));
            Thread.sleep(1_000); // anything late (a duplicate) would come now
            Map<Long, Integer> loadVersions = loadVersions(table);
            Verdict verdict = Verdict.of(items.records(), loadVersions);
            System.out.printf("SnapshotModesIT always: term 1 (start, snapshot of %d + %d rows) %d ms; term 2 (kill, takeover,"
                            + " snapshot of %d rows, %d sent when the lock was taken) %d ms, status while waiting for the"
                            + " lock %s; term 3 (kill, takeover, %d rows) %d ms; %d inserts meanwhile; streamed writes: %s%n",
                    seeded, seededLater, term1Ms, seeded, lockedAfter, term2Ms, waiting, seededLater, term3Ms, load.inserted(), verdict);

            assertThat(List.of(first, second, third)).doesNotHaveDuplicates();
            assertThat(waiting.path("active").asBoolean()).as("term 2 still snapshotting when killed: %s", waiting).isTrue();
            assertThat(unlike(items.snapshotEpochs(), seeded, List.of(epoch1, epoch2)))
                    .as("seeded keys of %s without exactly one snapshot event in term 1 and one in term 2", table).isEmpty();
            assertThat(unlike(notes.snapshotEpochs(), seededLater, List.of(epoch1, epoch3)))
                    .as("seeded keys of %s without exactly one snapshot event in term 1 and one in term 3", later).isEmpty();
            assertThat(items.snapshotEpochs().values().stream().mapToInt(List::size).max().orElse(0))
                    .as("snapshot events of one key over two snapshots").isEqualTo(2);
            assertThat(verdict.clean()).as(verdict.toString()).isTrue();
            assertThat(Lsns.positions(items.records())).isSorted().doesNotHaveDuplicates();
            assertThat(Lsns.positions(notes.records())).isSorted().doesNotHaveDuplicates();
            FailoverIT.assertEpochsNeverGoBack(items.records());
            // From the logs: terms 1 and 2 each asked for a snapshot; term 3 continued the one in progress instead.
            String requested = "snapshot of the 2 published tables requested";
            String continued = "continuing the snapshot in progress";
            assertThat(count(first.process().log(), requested)).as("requests in %s's log", first.id()).isEqualTo(1);
            assertThat(count(second.process().log(), requested)).as("requests in %s's log", second.id()).isEqualTo(1);
            assertThat(count(third.process().log(), requested)).as("requests in %s's log", third.id()).isZero();
            assertThat(count(third.process().log(), continued)).as("continued in %s's log", third.id()).isEqualTo(1);
            passed.set(true);
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    /** SnapshotIT's first test with ZooKeeper electing the leader: 100,000 rows, one SIGKILL halfway. */
    @Test
    void initialSnapshotInZookeeperModeUnderWritesSurvivesALeaderKill() throws Exception {
        String cluster = ItSupport.uniqueCluster("snapzk");
        String table = "public." + cluster + "_orders";
        int seeded = 100_000;
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        sandbox.postgres().execute("INSERT INTO " + table + " SELECT g, 0, 'seed ' || g FROM generate_series("
                + SEED_FROM + ", " + (SEED_FROM + seeded - 1) + ") g", "ANALYZE " + table);
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).mode("zookeeper").tables(table).snapshot("initial", 2048);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean passed = new AtomicBoolean();
        try (Cluster agents = Cluster.start(configs, 2);
             SnapshotIT.Rebuild kafka = new SnapshotIT.Rebuild(sandbox.kafka().bootstrapServers(), cluster + "." + table);
             AutoCloseable dump = () -> SnapshotIT.dumpLogs(agents, passed)) {
            CompletableFuture<Void> inserts = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 20, 3, 1_000, stop));
            CompletableFuture<Long> churn = CompletableFuture.supplyAsync(() -> SnapshotIT.churn(sandbox, table, seeded, stop));
            long t0 = System.nanoTime();
            Cluster.Member leader = agents.awaitLeader(60_000);
            long epoch = awaitEpochAbove(leader, 0);
            ItSupport.await("every agent ready", Duration.ofSeconds(30), () -> agents.members().stream().allMatch(FailoverIT::ready));
            ItSupport.await(leader.id() + " has sent 30000 snapshot rows", Duration.ofSeconds(60),
                    () -> SnapshotIT.snapshotRows(leader) >= 30_000);
            long sent = SnapshotIT.snapshotRows(leader);
            long killedAt = System.nanoTime();
            leader.process().kill();
            Cluster.Member next = agents.awaitLeader(60_000);
            long nextEpoch = awaitEpochAbove(next, epoch);
            ItSupport.await(next.id() + " continuing the snapshot", Duration.ofSeconds(60), () -> SnapshotIT.resumedFrom(next) >= 0);
            long resumedFrom = SnapshotIT.resumedFrom(next);
            ItSupport.await(next.id() + " sending snapshot rows", Duration.ofSeconds(60), () -> SnapshotIT.snapshotRows(next) > resumedFrom);
            long sendingAfterMs = (System.nanoTime() - killedAt) / 1_000_000;
            ItSupport.await("the snapshot done", Duration.ofSeconds(60), () -> SnapshotIT.snapshotDone(agents));
            long snapshotMs = (System.nanoTime() - t0) / 1_000_000;
            JsonNode status = AgentHttp.status(next.url()).orElseThrow();
            stop.set(true);
            inserts.get();
            long churned = churn.get();
            Map<Long, String> expected = SnapshotIT.tableRows(sandbox, table);
            ItSupport.await("Kafka rebuilt equal to the table", Duration.ofSeconds(60), () -> kafka.rows().equals(expected));
            Thread.sleep(1_000);
            SnapshotIT.Rebuild.Result r = kafka.result();
            System.out.printf("SnapshotModesIT zookeeper: %d seeded rows snapshotted in %d ms (one takeover included) while %d"
                            + " inserts and %d updates/deletes ran; %s killed with %d rows sent (epoch %d), %s (epoch %d) continued"
                            + " after the %d committed, sending again %d ms after the kill; %d snapshot events, %d rows in Kafka = table%n",
                    seeded, snapshotMs, load.inserted(), churned, leader.id(), sent, epoch, next.id(), nextEpoch, resumedFrom,
                    sendingAfterMs, r.snapshotEvents(), r.rows().size());
            assertThat(resumedFrom).as("rows the new leader found committed (it did not start over)").isGreaterThan(sent - 20_000);
            assertThat(resumedFrom).as("rows the new leader found committed (the kill came before the end)").isLessThan(seeded);
            assertThat(status.path("role").asText()).isEqualTo("leader");
            assertThat(status.path("mode").asText()).isEqualTo("zookeeper");
            assertThat(status.path("snapshot").path("tables").get(0).path("state").asText()).isEqualTo("done");
            assertThat(status.path("snapshot").path("tables").get(0).path("rowsSent").asLong())
                    .as("rows sent over both leaders").isGreaterThan(seeded / 2);
            assertThat(r.rows()).isEqualTo(expected);
            assertThat(r.keysSnapshottedTwice()).as("keys with two snapshot events").isZero();
            assertThat(r.positionsOutOfOrder()).as("positions not growing").isZero();
            assertThat(r.snapshotEvents()).isGreaterThan(seeded / 2).isLessThanOrEqualTo(seeded + load.inserted());
            passed.set(true);
        } finally {
            stop.set(true);
            ItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    /** The member's epoch once /status shows one above {@code above} (a new leader may answer before it is set). */
    private static long awaitEpochAbove(Cluster.Member m, long above) throws InterruptedException {
        ItSupport.await(m.id() + "'s epoch above " + above, Duration.ofSeconds(30), () -> epoch(m) > above);
        return epoch(m);
    }

    private static long epoch(Cluster.Member m) {
        return AgentHttp.status(m.url()).map(s -> s.path("epoch").asLong(-1)).orElse(-1L);
    }

    /** The seeded keys (SEED_FROM …) whose snapshot events did not come in exactly these epochs, in this order; at most 10. */
    private static Map<Long, List<Long>> unlike(Map<Long, List<Long>> epochs, int seeded, List<Long> expected) {
        Map<Long, List<Long>> wrong = new HashMap<>();
        for (long id = SEED_FROM; id < SEED_FROM + seeded && wrong.size() < 10; id++) {
            List<Long> got = epochs.getOrDefault(id, List.of());
            if (!got.equals(expected)) {
                wrong.put(id, got);
            }
        }
        return wrong;
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Final versions of the load's rows (ids below the seeded ones): Verdict's expectation for streamed writes. */
    private Map<Long, Integer> loadVersions(String table) throws SQLException {
        try (Connection c = connect()) {
            Map<Long, Integer> all = Verdict.finalVersions(c, table);
            all.keySet().removeIf(id -> id >= SEED_FROM);
            return all;
        }
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Seeded keys (SEED_FROM …) with a snapshot event of this epoch. */
    private static long seededKeysIn(SnapshotIT.Rebuild topic, long epoch, int seeded) {
        Map<Long, List<Long>> epochs = topic.snapshotEpochs();
        long n = 0;
        for (long id = SEED_FROM; id < SEED_FROM + seeded; id++) {
            List<Long> e = epochs.get(id);
            if (e != null && e.contains(epoch)) {
                n++;
            }
        }
        return n;
    }
}
