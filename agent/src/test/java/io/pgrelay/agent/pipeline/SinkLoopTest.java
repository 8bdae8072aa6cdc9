package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.BuiltinTypes;
import io.pgrelay.agent.event.EventEncoder;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.kafka.Sink;
import io.pgrelay.agent.pgoutput.Begin;
import io.pgrelay.agent.pgoutput.Commit;
import io.pgrelay.agent.pgoutput.Delete;
import io.pgrelay.agent.pgoutput.Insert;
import io.pgrelay.agent.pgoutput.LogicalMessage;
import io.pgrelay.agent.pgoutput.PgMessage;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.pgoutput.Update;
import io.pgrelay.agent.route.TopicNames;
import io.pgrelay.agent.schema.TableSchema;
import io.pgrelay.agent.snapshot.Chunk;
import io.pgrelay.agent.snapshot.ChunkRegistry;
import io.pgrelay.agent.snapshot.KeylessRead;
import io.pgrelay.agent.snapshot.SnapshotState;
import io.pgrelay.agent.snapshot.Watermark;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The loop that decides what to send, skip, commit and confirm, against an in-memory {@link Sink}:
 * the guarantees of no loss and no duplicates without Kafka.
 */
class SinkLoopTest {

    private static final int REL = 16384;
    private static final TableId ORDERS = TableId.parse("public.orders");
    private static final Relation RELATION = new Relation(REL, "public", "orders", Relation.IDENTITY_DEFAULT,
            List.of(new Relation.Column(true, "id", 20, -1), new Relation.Column(false, "v", 25, -1)));
    private static final String TOPIC = "pgrelay.public.orders";
    private static final TopicNames TOPICS = new TopicNames("pgrelay", Map.of(ORDERS, TOPIC));
    private static final String SCHEMA_TOPIC = "pgrelay.schema";
    private static final String DEAD_LETTER = "pgrelay.dead-letter";

    private final RecordingSink sink = new RecordingSink();
    private final StreamProgress progress = new StreamProgress();
    private final StreamStats stats = new StreamStats();
    private final ChunkRegistry chunks = new ChunkRegistry();

    /** What the loop under test is built with; each test changes what it needs before {@link #loop()}. */
    private Position skipThrough = Position.NONE;
    private Lsn recordedFlushed = Lsn.ZERO;
    private boolean tombstones = true;
    private boolean skipOversized = false;
    private long commitMaxBytes = 1 << 20;
    private Duration commitInterval = Duration.ofSeconds(10);
    private long maxTransactionBytes = 1L << 30;
    private String transactionTopic;
    private SnapshotState snapshotState = SnapshotState.NONE;

    private SinkLoop loop() {
        EventEncoder encoder = new EventEncoder("test", BuiltinTypes.CATALOG);
        TableSchema known = TableSchema.of(RELATION, BuiltinTypes.CATALOG);   // no schema event: the topic has it
        SchemaStream schemas = new SchemaStream(SCHEMA_TOPIC, "test", "slot", BuiltinTypes.CATALOG,
                Map.of(known.table(), known));
        SnapshotWindows windows = new SnapshotWindows(chunks, snapshotState, stats.snapshot(), "slot");
        SinkLoop loop = new SinkLoop(sink, encoder, new Routes(sink, encoder, table -> List.of("id"), TOPICS, stats),
                new OversizedRecords(skipOversized, DEAD_LETTER, sink, stats, "slot"), progress, stats,
                new SinkSettings("slot", tombstones, commitInterval, commitMaxBytes, 7, "agent-1", maxTransactionBytes,
                        Duration.ofMinutes(5), transactionTopic, "test"),
                skipThrough, recordedFlushed, null, schemas, windows);
        loop.handle(RELATION, 0x10);
        return loop;
    }

    // ---- skipping what a former leader committed

    @Test
    void eventsAtOrBeforeTheCheckpointAreNotSentAfterATakeover() {
        skipThrough = new Position(Lsn.of(0x200), 1);
        recordedFlushed = Lsn.of(0x210);
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1), insert(2));   // wholly in Kafka already
        assertThat(sink.inTransaction()).as("nothing to write, no Kafka transaction").isFalse();
        assertThat(progress.flushed()).as("the checkpoint allows confirming it").isEqualTo(Lsn.of(0x210));
        transaction(loop, 0x300, 0x310, insert(3));
        loop.maybeCommit(true);

        assertThat(sink.committedKeys(TOPIC)).containsExactly("{\"id\":3}");
        assertThat(stats.skippedAlreadyWritten()).isEqualTo(2);
        assertThat(sink.lastCheckpoint().position()).isEqualTo(new Position(Lsn.of(0x300), 0));
        assertThat(progress.flushed()).isEqualTo(Lsn.of(0x310));
    }

    @Test
    void transactionStraddlingTheCheckpointSendsOnlyItsEventsAfterIt() {
        skipThrough = new Position(Lsn.of(0x200), 1);   // the former leader committed seq 0 and 1 of it
        recordedFlushed = Lsn.of(0x100);
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1), insert(2), insert(3), insert(4));
        loop.maybeCommit(true);

        assertThat(sink.committedKeys(TOPIC)).containsExactly("{\"id\":3}", "{\"id\":4}");
        assertThat(sink.committed).extracting(Sent::seq).containsExactly("2", "3");
        assertThat(stats.skippedAlreadyWritten()).isEqualTo(2);
        assertThat(sink.lastCheckpoint().position()).isEqualTo(new Position(Lsn.of(0x200), 3));
        assertThat(sink.lastCheckpoint().flushed()).isEqualTo(Lsn.of(0x210));
    }

    // ---- confirming the slot while idle

    @Test
    void heartbeatWhileIdleMovesTheSlotOnlyAfterACheckpointRecordsIt() {
        recordedFlushed = Lsn.of(0x100);
        SinkLoop loop = loop();
        loop.handle(heartbeat(0x500), 0x500);

        assertThat(progress.flushed()).as("not confirmed before a checkpoint records it").isEqualTo(Lsn.ZERO);
        assertThat(sink.inTransaction()).as("a Kafka transaction opened to carry only the checkpoint").isTrue();
        assertThat(sink.open).isEmpty();
        loop.maybeCommit(true);
        assertThat(sink.checkpoints).hasSize(1);
        assertThat(sink.lastCheckpoint().flushed()).isEqualTo(Lsn.of(0x500));
        assertThat(progress.flushed()).isEqualTo(Lsn.of(0x500));
        assertThat(sink.committed).as("no event written for a heartbeat").isEmpty();
    }

    @Test
    void heartbeatAtOrBeforeTheRecordedPositionIsConfirmedWithoutAKafkaTransaction() {
        recordedFlushed = Lsn.of(0x500);
        SinkLoop loop = loop();
        loop.handle(heartbeat(0x400), 0x400);

        assertThat(sink.inTransaction()).isFalse();
        assertThat(sink.checkpoints).isEmpty();
        assertThat(progress.flushed()).isEqualTo(Lsn.of(0x400));
    }

    @Test
    void heartbeatDuringAnOpenKafkaTransactionWaitsForItsCommit() {
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1));
        loop.handle(heartbeat(0x300), 0x300);
        assertThat(progress.flushed()).isEqualTo(Lsn.ZERO);
        loop.maybeCommit(true);
        assertThat(sink.lastCheckpoint().flushed()).isEqualTo(Lsn.of(0x300));
        assertThat(progress.flushed()).isEqualTo(Lsn.of(0x300));
        assertThat(progress.committed()).isEqualTo(new Position(Lsn.of(0x200), 0));
    }

    // ---- when to commit

    @Test
    void commitsAtOnceWhenTheStreamIsIdle() {
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1));
        loop.maybeCommit(false);
        assertThat(sink.checkpoints).as("young, small and busy: keeps the transaction open").isEmpty();
        loop.maybeCommit(true);
        assertThat(sink.checkpoints).hasSize(1);
        assertThat(sink.inTransaction()).isFalse();
    }

    @Test
    void commitsWhenTheTransactionHoldsCommitMaxBytes() {
        commitMaxBytes = 4000;
        SinkLoop loop = loop();
        long lsn = 0x200;
        do {
            transaction(loop, lsn, lsn + 0x10, insert(lsn));
            lsn += 0x100;
            if (sink.transactionBytes() < commitMaxBytes) {
                loop.maybeCommit(false);
                assertThat(sink.checkpoints).as("under commitMaxBytes: still open").isEmpty();
            }
        } while (sink.transactionBytes() < commitMaxBytes);
        assertThat(lsn).as("several transactions went into one Kafka transaction").isGreaterThan(0x400);
        loop.maybeCommit(false);
        assertThat(sink.checkpoints).hasSize(1);
        assertThat(sink.lastCheckpoint().position()).isEqualTo(new Position(Lsn.of(lsn - 0x100), 0));
    }

    @Test
    void commitsWhenTheTransactionIsOlderThanTheCommitInterval() {
        commitInterval = Duration.ofMillis(50);
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1));
        loop.maybeCommit(false);
        assertThat(sink.checkpoints).isEmpty();
        sink.ageBy(Duration.ofMillis(50));
        loop.maybeCommit(false);
        assertThat(sink.checkpoints).hasSize(1);
    }

    @Test
    void noCommitWithoutAnOpenTransaction() {
        SinkLoop loop = loop();
        loop.maybeCommit(true);
        assertThat(sink.checkpoints).isEmpty();
    }

    // ---- records too big, tombstones

    @Test
    void oversizedRecordStopsTheStreamByDefault() {
        sink.maxRequestSize = 1000;
        SinkLoop loop = loop();
        loop.handle(begin(0x200), 0x1f0);
        assertThatThrownBy(() -> loop.handle(new Insert(REL, row(1, "x".repeat(2000))), 0x1f8))
                .isInstanceOf(OversizedRecords.OversizedRecordException.class)
                .hasMessageContaining("over max.request.size 1000")
                .hasMessageContaining("slot slot");
        assertThat(sink.open).isEmpty();
    }

    @Test
    void oversizedRecordIsSkippedToTheDeadLetterTopicWhenConfigured() {
        sink.maxRequestSize = 1000;
        skipOversized = true;
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, new Insert(REL, row(1, "x".repeat(2000))), insert(2));
        loop.maybeCommit(true);

        assertThat(sink.committedKeys(TOPIC)).containsExactly("{\"id\":2}");
        assertThat(sink.committedKeys(DEAD_LETTER)).containsExactly("{\"id\":1}");
        assertThat(sink.committed(DEAD_LETTER).get(0).value()).contains("\"size\":").contains("\"topic\":\"" + TOPIC + "\"");
        assertThat(sink.topics).contains(DEAD_LETTER);
        assertThat(stats.skippedOversized()).isEqualTo(1);
    }

    @Test
    void deleteIsFollowedByATombstone() {
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, delete(1));
        loop.maybeCommit(true);
        assertThat(sink.committed(TOPIC)).extracting(Sent::value).hasSize(2).last().isNull();
    }

    @Test
    void deleteHasNoTombstoneWithTombstonesOff() {
        tombstones = false;
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, delete(1));
        loop.maybeCommit(true);
        assertThat(sink.committed(TOPIC)).hasSize(1);
        assertThat(sink.committed(TOPIC).get(0).value()).isNotNull();
    }

    // ---- snapshot watermarks

    @Test
    void snapshotRowsAreSentAtTheHighWatermarkExceptThoseChangedInTheWindow() {
        snapshotState = SnapshotState.NONE.request(List.of(ORDERS));
        SinkLoop loop = loop();
        CompletableFuture<Chunk.Outcome> outcome = chunks.expect("1-1", ORDERS);
        transaction(loop, 0x200, 0x210, watermark(Watermark.low("1-1")));
        transaction(loop, 0x300, 0x310, new Update(REL, 'K', null, row(2, "changed")));   // after the SELECT read it
        chunks.selected(new Chunk("1-1", ORDERS, RELATION, List.of(row(1, "a"), row(2, "b"), row(3, "c")),
                null, null, List.of("3"), null, true, 3L, null));
        transaction(loop, 0x400, 0x410, watermark(Watermark.high("1-1")));
        loop.maybeCommit(true);

        assertThat(sink.committed(TOPIC)).extracting(Sent::key, Sent::op, Sent::commitLsn).containsExactly(
                tuple("{\"id\":2}", "update", Lsn.of(0x300).toString()),
                tuple("{\"id\":1}", "snapshot", Lsn.of(0x400).toString()),
                tuple("{\"id\":3}", "snapshot", Lsn.of(0x400).toString()));
        SnapshotState.TableProgress table = sink.lastCheckpoint().snapshot().table(ORDERS).orElseThrow();
        assertThat(table.rowsSent()).isEqualTo(2);
        assertThat(table.status()).isEqualTo(SnapshotState.Status.DONE);
        assertThat(outcome).isCompletedWithValue(Chunk.Outcome.SENT);
    }

    @Test
    void lowWatermarkAloneCommitsNoEventButTheHighOneMovesTheCheckpoint() {
        snapshotState = SnapshotState.NONE.request(List.of(ORDERS));
        SinkLoop loop = loop();
        chunks.expect("1-1", ORDERS);
        transaction(loop, 0x200, 0x210, watermark(Watermark.low("1-1")));
        chunks.selected(new Chunk("1-1", ORDERS, RELATION, List.of(), null, null, null, null, true, 0L, null));
        transaction(loop, 0x300, 0x310, watermark(Watermark.high("1-1")));
        loop.maybeCommit(true);
        assertThat(sink.committed).isEmpty();
        assertThat(sink.lastCheckpoint().position()).as("past the watermark, so a new leader does not apply it again")
                .isEqualTo(new Position(Lsn.of(0x300), -1));   // just before its transaction's first event
    }

    // ---- keyless tables: sent whole at a temporary slot's consistent point

    @Test
    void keylessTableGoesOutWholeAtTheConsistentPointAfterATruncateOnEveryPartition() throws Exception {
        snapshotState = SnapshotState.NONE.request(List.of(ORDERS));
        SinkLoop loop = loop();
        KeylessRead read = keylessReadAt(loop, 0x350);
        transaction(loop, 0x300, 0x310, insert(5));                    // committed before the point: in the read too
        read.put(List.of(row(1, "a"), row(2, "b")));
        read.end();
        transaction(loop, 0x400, 0x410, insert(6));                    // the first transaction at or after the point
        loop.maybeCommit(true);

        assertThat(sink.committed(TOPIC)).extracting(Sent::key, Sent::op, Sent::commitLsn, Sent::seq).containsExactly(
                tuple("{\"id\":5}", "insert", Lsn.of(0x300).toString(), "0"),
                tuple(null, "truncate", Lsn.of(0x34f).toString(), "0"),   // once per partition (two here)
                tuple(null, "truncate", Lsn.of(0x34f).toString(), "0"),
                tuple("{\"id\":1}", "snapshot", Lsn.of(0x34f).toString(), "1"),
                tuple("{\"id\":2}", "snapshot", Lsn.of(0x34f).toString(), "2"),
                tuple("{\"id\":6}", "insert", Lsn.of(0x400).toString(), "0"));
        assertThat(sink.lastCheckpoint().snapshot().active()).as("the table done: no snapshot left in progress").isFalse();
        assertThat(read.outcome()).isCompletedWithValue(Chunk.Outcome.SENT);
        assertThat(sink.lastCheckpoint().position()).isEqualTo(new Position(Lsn.of(0x400), 0));
    }

    @Test
    void keylessReadThatFailsLeavesTheTableRunningAndTheStreamGoesOn() throws Exception {
        snapshotState = SnapshotState.NONE.request(List.of(ORDERS));
        SinkLoop loop = loop();
        KeylessRead read = keylessReadAt(loop, 0x350);
        read.fail();                                                    // the worker's connection broke
        transaction(loop, 0x400, 0x410, insert(6));
        loop.maybeCommit(true);

        assertThat(sink.committed(TOPIC)).extracting(Sent::op).containsExactly("truncate", "truncate", "insert");
        SnapshotState.TableProgress table = sink.lastCheckpoint().snapshot().table(ORDERS).orElseThrow();
        assertThat(table.status()).as("the next attempt starts it over, with a new truncate")
                .isEqualTo(SnapshotState.Status.RUNNING);
        assertThat(read.outcome()).isCompletedWithValue(Chunk.Outcome.STALE);
    }

    @Test
    void transactionsBeforeTheConsistentPointDoNotSendTheKeylessTable() {
        snapshotState = SnapshotState.NONE.request(List.of(ORDERS));
        SinkLoop loop = loop();
        KeylessRead read = keylessReadAt(loop, 0x350);
        transaction(loop, 0x340, 0x348, insert(5));
        loop.maybeCommit(true);
        assertThat(sink.committed(TOPIC)).extracting(Sent::op).containsExactly("insert");
        assertThat(read.outcome()).isNotDone();
    }

    /** A keyless read whose temporary slot became consistent at {@code point}, its low watermark met at 0/200. */
    private KeylessRead keylessReadAt(SinkLoop loop, long point) {
        KeylessRead read = new KeylessRead("1-1", ORDERS, RELATION, 2L);
        chunks.expect(read);
        assertThat(read.arm(Lsn.of(point))).isTrue();
        transaction(loop, 0x200, 0x210, watermark(Watermark.low("1-1")));
        return read;
    }

    // ---- whole PostgreSQL transactions

    @Test
    void aKafkaTransactionIsNeverCommittedInsideAPostgresTransaction() {
        commitMaxBytes = 100;
        commitInterval = Duration.ZERO;
        SinkLoop loop = loop();
        loop.handle(begin(0x300), 0x2f0);
        loop.handle(insert(1), 0x2f1);
        loop.handle(insert(2), 0x2f2);
        loop.maybeCommit(true);   // idle, past commitMaxBytes and commitInterval: still inside the transaction
        assertThat(sink.checkpoints).as("no commit between two events of one PostgreSQL transaction").isEmpty();
        loop.handle(new Commit(0, Lsn.of(0x300), Lsn.of(0x310), 0), 0x300);
        loop.maybeCommit(true);
        assertThat(sink.committedKeys(TOPIC)).containsExactly("{\"id\":1}", "{\"id\":2}");
        assertThat(stats.transactionsSplit()).isZero();
    }

    @Test
    void onlyATransactionPastMaxTransactionBytesIsSplitAndCountedOnce() {
        maxTransactionBytes = 200;
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1));   // small: whole, and grouped with what follows
        loop.handle(begin(0x300), 0x2e0);
        for (long id = 10; id < 30; id++) {
            loop.handle(insert(id), 0x2e0 + id);
            loop.maybeCommit(false);
        }
        assertThat(sink.checkpoints).as("committed in parts past 200 bytes of its own").hasSizeGreaterThan(1);
        assertThat(sink.committed(TOPIC).get(0).key()).isEqualTo("{\"id\":1}");
        assertThat(stats.transactionsSplit()).as("counted once per transaction").isEqualTo(1);
    }

    @Test
    void aGracefulStopInsideAPostgresTransactionAbortsItsStart() {
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1));
        loop.handle(begin(0x300), 0x2f0);
        loop.handle(insert(2), 0x2f1);
        loop.finish();
        assertThat(sink.committed).as("nothing half-read committed; the next leader sends both whole").isEmpty();
        assertThat(sink.inTransaction()).isFalse();
        assertThat(progress.flushed()).isEqualTo(Lsn.ZERO);
    }

    @Test
    void aStoppingLoopCommitsEachWholeTransactionSoTheStopAbortsOnlyTheHalfReadOne() {
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1));   // grouped, not yet committed
        loop.stopping();
        transaction(loop, 0x300, 0x310, insert(2));   // ends while stopping: committed with the one before
        loop.handle(begin(0x400), 0x3f0);
        loop.handle(insert(3), 0x3f1);
        loop.finish();
        assertThat(sink.committedKeys(TOPIC)).containsExactly("{\"id\":1}", "{\"id\":2}");
        assertThat(progress.flushed()).isEqualTo(Lsn.of(0x310));
    }

    @Test
    void beginAndEndRecordsFrameEachTransactionWithItsCounts() {
        transactionTopic = "test._transactions";
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1), insert(2), delete(1));
        loop.maybeCommit(true);
        List<Sent> all = sink.committed;
        assertThat(all.get(0).topic()).isEqualTo(transactionTopic);
        assertThat(all.get(0).value()).contains("\"status\":\"BEGIN\"", "\"commitLsn\":\"0/200\"");
        Sent end = all.get(all.size() - 1);
        assertThat(end.topic()).isEqualTo(transactionTopic);
        assertThat(end.value()).contains("\"status\":\"END\"", "\"counts\":{\"public.orders\":3}");
        assertThat(end.seq()).as("END takes the seq after the last event").isEqualTo("3");
        assertThat(sink.lastCheckpoint().position()).isEqualTo(new Position(Lsn.of(0x200), 3));
    }

    @Test
    void aNewLeaderWritesNeitherRecordTwiceForATransactionStraddlingTheCheckpoint() {
        transactionTopic = "test._transactions";
        skipThrough = new Position(Lsn.of(0x200), 0);   // BEGIN and the first event are in Kafka
        SinkLoop loop = loop();
        transaction(loop, 0x200, 0x210, insert(1), insert(2));
        loop.maybeCommit(true);
        assertThat(sink.committed.stream().map(x -> x.value().contains("BEGIN") ? "BEGIN" : x.value().contains("END") ? "END" : x.key()))
                .containsExactly("{\"id\":2}", "END");
        assertThat(sink.committed.get(1).value()).as("counts cover the events sent before the takeover too")
                .contains("\"counts\":{\"public.orders\":2}");
    }

    // ---- messages

    private static TupleData row(long id, String v) {
        return TupleData.builder().text(Long.toString(id)).text(v).build();
    }

    private static Insert insert(long id) {
        return new Insert(REL, row(id, "v" + id));
    }

    private static Delete delete(long id) {
        return new Delete(REL, 'K', TupleData.builder().text(Long.toString(id)).nul().build());
    }

    private static Begin begin(long finalLsn) {
        return new Begin(Lsn.of(finalLsn), 0, finalLsn);
    }

    private static LogicalMessage heartbeat(long lsn) {
        return new LogicalMessage(false, Lsn.of(lsn), "pgrelay.heartbeat", new byte[0]);
    }

    private static LogicalMessage watermark(String content) {
        return new LogicalMessage(true, Lsn.ZERO, Watermark.WATERMARK, content.getBytes(StandardCharsets.UTF_8));
    }

    /** One PostgreSQL transaction: Begin, the messages (at LSNs just below its commit), Commit. */
    private static void transaction(SinkLoop loop, long finalLsn, long endLsn, Object... messages) {
        loop.handle(begin(finalLsn), finalLsn - 0x10);
        long lsn = finalLsn - 0x10;
        for (Object m : messages) {
            lsn++;
            if (m instanceof LogicalMessage w && w.lsn().isZero()) {
                m = new LogicalMessage(true, Lsn.of(lsn), w.prefix(), w.content());
            }
            loop.handle((PgMessage) m, lsn);
        }
        loop.handle(new Commit(0, Lsn.of(finalLsn), Lsn.of(endLsn), 0), finalLsn);
    }

    // ---- the sink

    record Sent(String topic, String key, String value, Map<String, String> headers) {
        String seq() {
            return headers.get("pgrelay.seq");
        }

        String op() {
            return headers.get("pgrelay.op");
        }

        String commitLsn() {
            return headers.get("pgrelay.commit-lsn");
        }
    }

    /** Records sends and commits in memory; owns the transaction's state as {@code KafkaSink} does. */
    static final class RecordingSink implements Sink {
        final List<Sent> open = new ArrayList<>();
        final List<Sent> committed = new ArrayList<>();
        final List<Checkpoint> checkpoints = new ArrayList<>();
        final Set<String> topics = new HashSet<>();
        int maxRequestSize = 1 << 20;
        private boolean inTransaction;
        private long bytes;
        private long startNanos;

        void ageBy(Duration age) {
            startNanos -= age.toNanos();
        }

        Checkpoint lastCheckpoint() {
            return checkpoints.get(checkpoints.size() - 1);
        }

        List<Sent> committed(String topic) {
            return committed.stream().filter(s -> s.topic().equals(topic)).toList();
        }

        List<String> committedKeys(String topic) {
            return committed(topic).stream().map(Sent::key).toList();
        }

        @Override
        public void ensureTopic(String topic) {
            topics.add(topic);
        }

        @Override
        public int maxRequestSize() {
            return maxRequestSize;
        }

        @Override
        public void begin() {
            if (!inTransaction) {
                inTransaction = true;
                bytes = 0;
                startNanos = System.nanoTime();
            }
        }

        @Override
        public void send(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
            begin();
            Map<String, String> h = new HashMap<>();
            for (Header header : headers) {
                h.put(header.key(), header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8));
            }
            open.add(new Sent(topic, text(key), text(value), h));
            bytes += (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        }

        /** Recorded once per partition of a two-partition topic. */
        @Override
        public void sendToEveryPartition(String topic, byte[] key, byte[] value, Iterable<Header> headers) {
            send(topic, key, value, headers);
            send(topic, key, value, headers);
        }

        private static String text(byte[] bytes) {
            return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
        }

        @Override
        public boolean inTransaction() {
            return inTransaction;
        }

        @Override
        public void abort() {
            open.clear();
            inTransaction = false;
        }

        @Override
        public long transactionBytes() {
            return bytes;
        }

        @Override
        public long transactionRecords() {
            return open.size();
        }

        @Override
        public long transactionStartNanos() {
            return startNanos;
        }

        @Override
        public void commit(Checkpoint checkpoint) {
            if (!inTransaction) {
                return;
            }
            committed.addAll(open);
            open.clear();
            checkpoints.add(checkpoint);
            inTransaction = false;
        }
    }
}
