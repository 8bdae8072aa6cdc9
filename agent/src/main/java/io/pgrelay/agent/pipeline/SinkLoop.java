package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.event.ChangeEvent;
import io.pgrelay.agent.event.RowEncoder;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.kafka.EventHeaders;
import io.pgrelay.agent.kafka.Sink;
import io.pgrelay.agent.pgoutput.Begin;
import io.pgrelay.agent.pgoutput.Commit;
import io.pgrelay.agent.pgoutput.Delete;
import io.pgrelay.agent.pgoutput.Insert;
import io.pgrelay.agent.pgoutput.LogicalMessage;
import io.pgrelay.agent.pgoutput.PgMessage;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.Truncate;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.pgoutput.Update;
import io.pgrelay.agent.schema.SchemaEvents;
import io.pgrelay.agent.snapshot.Chunk;
import io.pgrelay.agent.snapshot.KeylessRead;
import io.pgrelay.agent.snapshot.Watermark;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Turns decoded messages into Kafka records inside Kafka transactions, and decides when to commit.
 * Events at or before the checkpoint read at start are already in Kafka and are skipped.
 *
 * <p>Thread rule: only the sink thread uses an instance. It publishes the LSN that PostgreSQL may
 * be told is flushed through {@link StreamProgress}; the reader thread sends it.
 */
final class SinkLoop {

    private static final Logger log = LoggerFactory.getLogger(SinkLoop.class);
    /** A Kafka commit taking this long is logged with the brokers' state: a broker lost, leadership moving. */
    private static final long SLOW_COMMIT_NANOS = 2_000_000_000L;

    private final Sink sink;
    private final RowEncoder encoder;
    private final OversizedRecords oversized;
    private final StreamProgress progress;
    private final StreamStats stats;
    private final String slot;
    private final boolean tombstones;
    private final CommitPolicy commits;
    private final TransactionRecords transactionRecords;
    private final long epoch;
    private final String agentId;
    private final EventHeaders headers;
    private final Routes routes;
    private final Position skipThrough;
    private final SchemaStream schemas;
    private final SnapshotWindows snapshots;

    // State of the PostgreSQL transaction being read.
    private Begin begin;
    private long seq;
    /** True once an event of the current PostgreSQL transaction went into a Kafka transaction. */
    private boolean sentInTransaction;
    /** A graceful stop: commit at every PostgreSQL commit, so it aborts at most one half-read transaction. */
    private boolean stopping;
    /** Commit times of the transactions in the open Kafka transaction, for their end-to-end latency. */
    private final PendingCommits pendingCommits = new PendingCommits();
    /** Position of the last event sent (or state moved) in the open Kafka transaction or an earlier one. */
    private Position lastSent = Position.NONE;
    /** How far the slot may be confirmed, and what the checkpoints record of it. */
    private final Confirmations confirmations;
    /** A keyless table's whole read, sent before the first transaction committing at or after {@link #keylessAt}. */
    private KeylessRead keyless;
    private Lsn keylessAt;

    SinkLoop(Sink sink, RowEncoder encoder, Routes routes, OversizedRecords oversized,
             StreamProgress progress, StreamStats stats, SinkSettings settings, Position skipThrough, Lsn recordedFlushed,
             SlotOrigin origin, SchemaStream schemas, SnapshotWindows snapshots) {
        this.sink = sink;
        this.encoder = encoder;
        this.routes = routes;
        this.oversized = oversized;
        this.progress = progress;
        this.stats = stats;
        this.slot = settings.slot();
        this.tombstones = settings.tombstones();
        this.commits = new CommitPolicy(settings.slot(), settings.commitInterval(), settings.commitMaxBytes(),
                settings.maxTransactionBytes(), settings.maxTransactionTime(), stats);
        this.transactionRecords = settings.transactionTopic() == null ? null
                : new TransactionRecords(settings.transactionTopic(), settings.cluster());
        this.epoch = settings.epoch();
        this.agentId = settings.agentId();
        this.headers = new EventHeaders(settings.epoch(), settings.agentId());
        this.skipThrough = skipThrough;
        this.confirmations = new Confirmations(recordedFlushed, origin);
        this.schemas = schemas;
        this.snapshots = snapshots;
    }

    void handle(PgMessage message, long lsn) {
        if (message instanceof Insert m) {
            change(Op.INSERT, m.relationId(), null, m.newTuple(), lsn);
        } else if (message instanceof Update m) {
            change(Op.UPDATE, m.relationId(), m.oldTuple(), m.newTuple(), lsn);
        } else if (message instanceof Delete m) {
            change(Op.DELETE, m.relationId(), m.oldTuple(), null, lsn);
        } else if (message instanceof Begin m) {
            if (keyless != null && !keylessAt.isAfter(m.finalLsn())) {
                sendKeyless();
            }
            begin = m;
            seq = 0;
            sentInTransaction = false;
            commits.began(sink);
            if (transactionRecords != null) {
                transactionRecords.begin();
            }
        } else if (message instanceof Commit m) {
            if (transactionRecords != null && transactionRecords.any()) {
                transactionEnd();
            }
            if (sentInTransaction) {
                pendingCommits.add(ChangeEvent.unixMicros(begin.commitTimeMicros()));
            }
            begin = null;
            confirmations.completeThrough(m.endLsn());
            stats.transactionCommitted();
            if (stopping) {
                maybeCommit(true);   // a stop drains the queue: each whole transaction is committed, none held back
            }
            if (!sink.inTransaction()) {
                // Nothing of it was written (all skipped, or no published change): nothing to wait for.
                flushOrRecord();
            }
        } else if (message instanceof Relation m) {
            routes.onRelation(m);
            encoder.register(m);
            schemaEvent(m, lsn);
        } else if (message instanceof Truncate m) {
            for (int relationId : m.relationIds()) {
                change(Op.TRUNCATE, relationId, null, null, lsn);
            }
        } else if (message instanceof LogicalMessage m && m.transactional() && begin != null
                && m.prefix().startsWith(Watermark.WATERMARK)) {
            snapshotMessage(m);
        } else if (message instanceof LogicalMessage m && !m.transactional() && begin == null) {
            // A non-transactional message (the heartbeat) outside any transaction: every transaction
            // decoded before it has ended, so once those are in Kafka the slot may be confirmed up to
            // here — which keeps an idle slot moving while other tables are busy.
            confirmations.completeThrough(Lsn.of(lsn));
            if (!sink.inTransaction()) {
                flushOrRecord();
            }
        } else if (message instanceof LogicalMessage m && begin != null && schemas.isOwnDdl(m)) {
            ddlEvent(m, lsn);
        }
        // Type, Origin and other logical decoding messages carry no row change.
    }

    /**
     * With no Kafka transaction open: lets the slot confirm what is complete when a checkpoint
     * already allows it, else opens a Kafka transaction that commits (soon: the stream is idle or
     * the interval bounds it) only a checkpoint recording it, after which it is confirmed.
     */
    private void flushOrRecord() {
        if (confirmations.needsRecord()) {
            openTransaction();
        } else {
            progress.flushed(confirmations.completeThrough());
        }
    }

    private void change(Op op, int relationId, TupleData before, TupleData after, long lsn) {
        Routes.Route route = routes.get(relationId);
        if (route == null || begin == null) {
            throw new IllegalStateException("slot " + slot + ": change at LSN " + Lsn.of(lsn)
                    + (begin == null ? " outside a transaction" : " for unknown relation " + relationId));
        }
        long eventSeq = seq++;
        Lsn commitLsn = begin.finalLsn();
        ChangeEvent event = new ChangeEvent(op, route.relation(), before, after, Lsn.of(lsn), commitLsn,
                begin.xid(), eventSeq, ChangeEvent.unixMicros(begin.commitTimeMicros()));
        if (snapshots.watching(route.relation().tableId())) {
            snapshots.changed(event, encoder);
        }
        if (transactionRecords != null) {
            transactionRecords.count(route.relation().tableId());
        }
        if (skipThrough.covers(commitLsn, eventSeq)) {
            stats.countSkippedAlreadyWritten();
            return;
        }
        if (transactionRecords != null && !transactionRecords.beginSent() && !skipThrough.covers(commitLsn, 0)) {
            openTransaction();   // the BEGIN record, before the first event of the transaction this leader sends
            transactionRecords.sendBegin(sink, headers, begin);
        }
        send(event, route);
    }

    /** Writes one event (and a delete's tombstone) into the open Kafka transaction, opening one if needed. */
    private void send(ChangeEvent event, Routes.Route route) {
        Op op = event.op();
        if (!encoder.writes(op)) {
            return;   // the format leaves these out (Debezium's skipped.operations=t)
        }
        byte[] key = encoder.key(event);
        byte[] value = encoder.value(event);
        List<Header> headers = this.headers.of(event.lsn().value(), event.commitLsn().value(), event.seq(), op);
        int size = Sink.estimateSize(key, value, headers);
        if (size > sink.maxRequestSize()) {
            oversized.handle(event, route.topic(), key, size, sink.maxRequestSize());
            return;
        }
        openTransaction();
        sink.send(route.topic(), key, value, headers);
        sentInTransaction = true;
        if (op == Op.DELETE && tombstones && key != null) {
            sink.send(route.topic(), key, null, headers);
        }
        lastSent = event.position();
        stats.event(route.counters(), op, value.length, event.committedAtMicros());
    }

    /**
     * A schema event, when the Relation message shows a new shape, positioned with the row it comes
     * before: {@code (commitLsn, seq)} of that row, which it does not take from the rows. At or before
     * the checkpoint it is in Kafka already when it was due (committed with or before that row); after
     * it, {@link SchemaStream} compares with what the schema topic holds, so a schema event committed
     * just before a restart without its row is not written twice either.
     */
    private void schemaEvent(Relation relation, long lsn) {
        if (begin == null || skipThrough.covers(begin.finalLsn(), seq)) {
            return;
        }
        SchemaEvents.At at = new SchemaEvents.At(Lsn.of(lsn), begin.finalLsn(), begin.xid(), seq,
                ChangeEvent.unixMicros(begin.commitTimeMicros()));
        SchemaStream.Out out = schemas.onRelation(relation, at);
        if (out != null) {
            sendToSchemaTopic(out, at, SCHEMA_OP);
        }
    }

    /**
     * A DDL event takes a {@code seq} of its own, like a row: the message sits at a fixed place in
     * the WAL, so it gets the same position in every session, and the checkpoint covers it.
     */
    private void ddlEvent(LogicalMessage message, long lsn) {
        long eventSeq = seq++;
        if (skipThrough.covers(begin.finalLsn(), eventSeq)) {
            stats.countSkippedAlreadyWritten();
            return;
        }
        SchemaEvents.At at = new SchemaEvents.At(Lsn.of(lsn), begin.finalLsn(), begin.xid(), eventSeq,
                ChangeEvent.unixMicros(begin.commitTimeMicros()));
        sendToSchemaTopic(schemas.onDdl(message, at), at, DDL_OP);
        lastSent = new Position(at.commitLsn(), eventSeq);
    }

    private void sendToSchemaTopic(SchemaStream.Out out, SchemaEvents.At at, Header op) {
        sink.send(schemas.topic(), out.key(), out.value(),
                headers.of(at.lsn().value(), at.commitLsn().value(), at.seq(), op));
        sentInTransaction = true;
    }

    /** The END record, at the {@code seq} after the last event: the checkpoint covers it like an event. */
    private void transactionEnd() {
        long endSeq = seq++;
        if (!skipThrough.covers(begin.finalLsn(), endSeq)) {
            openTransaction();
            transactionRecords.sendEnd(sink, headers, begin, endSeq);
            sentInTransaction = true;
            lastSent = new Position(begin.finalLsn(), endSeq);
        }
    }

    private static final Header SCHEMA_OP = EventHeaders.opHeader("schema");
    private static final Header DDL_OP = EventHeaders.opHeader("ddl");

    private void openTransaction() {
        if (!sink.inTransaction()) {
            sink.begin();
        }
    }

    /**
     * A snapshot watermark or request (transactional messages, so in commit order with the rows).
     * Each moves the snapshot's state, which the next checkpoint carries; the checkpoint's position
     * moves to just before the next event, so a new leader does not apply the same message twice.
     */
    private void snapshotMessage(LogicalMessage m) {
        Position at = new Position(begin.finalLsn(), seq - 1);
        if (!at.isAfter(skipThrough)) {
            return; // a former leader read it, and the checkpoint's state holds what it did
        }
        String content = m.contentText();
        if (m.prefix().equals(Watermark.REQUEST)) {
            List<TableId> tables = Watermark.parseRequest(content);
            if (tables.isEmpty()) {
                log.warn("slot {}: ignored a {} message at LSN {} without tables: {}", slot, Watermark.REQUEST, m.lsn(), content);
            } else if (snapshots.request(tables)) {
                stateMoved(at);
            }
            return;
        }
        if (!m.prefix().equals(Watermark.WATERMARK)) {
            return;
        }
        Watermark.Mark mark = Watermark.parse(content).orElse(null);
        if (mark == null) {
            log.warn("slot {}: ignored a {} message at LSN {} that is not a watermark: {}", slot, Watermark.WATERMARK, m.lsn(), content);
        } else if (mark.low()) {
            KeylessRead read = snapshots.keylessRead(mark.chunk()).orElse(null);
            if (read != null) {
                awaitConsistentPoint(read);
            } else {
                snapshots.low(mark.chunk());
            }
        } else {
            highWatermark(mark.chunk(), m.lsn());
        }
    }

    private void highWatermark(String chunkId, Lsn lsn) {
        SnapshotWindows.Closed closed = snapshots.high(chunkId, (chunk, row) -> {
            byte[] key = encoder.key(snapshotEvent(routes.forSnapshot(chunk.relation()), row, lsn, 0));
            return key == null ? null : new String(key, StandardCharsets.UTF_8);
        });
        if (closed == null || closed.outcome() != Chunk.Outcome.SENT) {
            return;
        }
        if (!closed.rows().isEmpty()) {
            Routes.Route route = routes.forSnapshot(closed.chunk().relation());
            // Rows read with a shape not yet published (the table changed, and the stream has not
            // reached it): the schema event goes before them. Nothing is sent when the shape is known.
            schemaEvent(route.relation(), lsn.value());
            for (TupleData row : closed.rows()) {
                send(snapshotEvent(route, row, lsn, seq++), route);
            }
        }
        snapshots.sent(closed, closed.rows().size());
        stateMoved(new Position(begin.finalLsn(), seq - 1));
    }

    /**
     * The low watermark of a keyless table's whole read: waits (briefly) for the worker's temporary
     * slot, whose consistent point says where the table goes. This watermark commits before that
     * point, so the stream has not reached it yet.
     */
    private void awaitConsistentPoint(KeylessRead read) {
        if (keyless != null) {
            keyless.abandon();   // the worker reads one table at a time; an older read was given up
        }
        Lsn point;
        try {
            point = read.consistentPoint(KeylessRead.SINK_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            read.abandon();
            return;
        }
        if (point == null) {
            read.abandon();
            log.warn("slot {}: snapshot of {}: no consistent point within {} ms (a temporary slot waits for running"
                    + " transactions); streaming on, the snapshot tries again", slot, read.table(), KeylessRead.SINK_WAIT_MILLIS);
            return;
        }
        keyless = read;
        keylessAt = point;
    }

    /**
     * Sends a keyless table whole, between the transactions that committed before its read's
     * consistent point (all in the read) and those at or after it (none in it): a truncate on every
     * partition of its topic, so a consumer drops what the stream gave it so far, then every row.
     * Positioned just before the consistent point, so positions keep growing and the checkpoint may
     * record them (every earlier transaction has been sent). The stream waits meanwhile; the rows
     * come a batch at a time, so memory stays bounded. A read that fails leaves the table running:
     * the worker starts it over later, with a new truncate.
     */
    private void sendKeyless() {
        KeylessRead read = keyless;
        keyless = null;
        if (!snapshots.keylessStarted(read)) {
            read.tell(Chunk.Outcome.STALE);
            return;
        }
        Lsn at = Lsn.of(keylessAt.value() - 1);
        long now = System.currentTimeMillis() * 1000;
        Routes.Route route = routes.forSnapshot(read.relation());
        SchemaEvents.At schemaAt = new SchemaEvents.At(at, at, 0, 0, now);
        SchemaStream.Out shape = schemas.onRelation(route.relation(), schemaAt);
        openTransaction();
        if (shape != null) {
            sendToSchemaTopic(shape, schemaAt, SCHEMA_OP);
        }
        long eventSeq = 0;
        ChangeEvent reset = new ChangeEvent(Op.TRUNCATE, route.relation(), null, null, at, at, 0, eventSeq++, now);
        sink.sendToEveryPartition(route.topic(), encoder.key(reset), encoder.value(reset),
                headers.of(at.value(), at.value(), reset.seq(), Op.TRUNCATE));
        stateMoved(new Position(at, reset.seq()));
        try {
            while (true) {
                KeylessRead.Next next = read.take(500);
                if (next instanceof KeylessRead.Rows rows) {
                    for (TupleData row : rows.rows()) {
                        send(new ChangeEvent(Op.SNAPSHOT, route.relation(), null, row, at, at, 0, eventSeq++, now), route);
                    }
                    snapshots.keylessSent(read, rows.rows().size(), false);
                    stateMoved(new Position(at, eventSeq - 1));
                    maybeCommit(false);
                } else if (next instanceof KeylessRead.End) {
                    snapshots.keylessSent(read, 0, true);
                    stateMoved(new Position(at, eventSeq - 1));
                    read.tell(Chunk.Outcome.SENT);
                    return;
                } else if (next instanceof KeylessRead.Failed) {
                    log.info("slot {}: snapshot of {} interrupted after {} rows; it starts over later", slot, read.table(), eventSeq - 1);
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            read.abandon();
        }
    }

    private ChangeEvent snapshotEvent(Routes.Route route, TupleData row, Lsn lsn, long eventSeq) {
        return new ChangeEvent(Op.SNAPSHOT, route.relation(), null, row, lsn, begin.finalLsn(), begin.xid(), eventSeq,
                ChangeEvent.unixMicros(begin.commitTimeMicros()));
    }

    /** The snapshot's state changed at {@code at}: make sure a Kafka transaction will commit it. */
    private void stateMoved(Position at) {
        openTransaction();
        if (at.isAfter(lastSent)) {
            lastSent = at;
        }
    }

    /** After a batch: commits when {@link CommitPolicy} says so — only between PostgreSQL transactions, but for a split. */
    void maybeCommit(boolean idle) {
        switch (commits.decide(sink, begin, idle)) {
            case COMMIT -> commit();
            case SPLIT -> {
                commits.splitting(begin);
                commit();
            }
            case WAIT -> { }
        }
    }

    /** A graceful stop began: from now on each PostgreSQL transaction is committed as it ends (sink thread). */
    void stopping() {
        stopping = true;
    }

    /**
     * A graceful stop's end: commits what is whole; a half-read PostgreSQL transaction's start is
     * aborted (the next leader sends it whole), unless it was split already.
     */
    void finish() {
        if (begin != null && sink.inTransaction() && !commits.wasSplit(begin)) {
            sink.abort();
            pendingCommits.clear();
            log.info("slot {}: stopping inside PostgreSQL transaction xid {}: its start is not committed to Kafka; the next"
                    + " leader sends it whole", slot, begin.xid());
            return;
        }
        commit();
    }

    void commit() {
        if (!sink.inTransaction()) {
            if (!confirmations.needsRecord()) {
                progress.flushed(confirmations.completeThrough());
                return;
            }
            openTransaction();
        }
        long t0 = System.nanoTime();
        long records = sink.transactionRecords();
        Checkpoint checkpoint = confirmations.checkpoint(lastSent, epoch, agentId, snapshots.state());
        sink.commit(checkpoint);
        long tookNanos = System.nanoTime() - t0;
        if (tookNanos >= SLOW_COMMIT_NANOS) {
            // A commit waits for every in-sync replica of its partitions and for the transaction coordinator:
            // say what held it up (the producer's own warnings, one per retry, name partitions, not brokers).
            log.warn("slot {}: Kafka took {} ms to commit {} records through {}; {}", slot, tookNanos / 1_000_000, records,
                    lastSent, sink.replicaHealth());
        }
        confirmations.committed(checkpoint);
        stats.kafkaCommitted(records, tookNanos);
        pendingCommits.delivered(stats);
        progress.committed(lastSent);
        progress.flushed(confirmations.completeThrough());
        if (log.isDebugEnabled()) {
            log.debug("slot {}: committed {} records through {}; flushed LSN {}", slot, records, lastSent,
                    confirmations.completeThrough());
        }
    }
}
