package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.Lsn;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.pgoutput.TupleData;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One whole-table read of a table without a key, handed from the snapshot worker to the sink. The
 * worker reads the table in the snapshot a temporary logical slot exported; that snapshot holds
 * exactly the transactions that committed before the slot's consistent point. The sink sends, at
 * the point of its stream where transactions committing at or after that point begin, a truncate
 * (so a consumer drops what the stream gave it of the table so far), then the rows — so the table
 * in Kafka is the table at that point, and the stream goes on from there.
 *
 * <p>Life: the worker {@link #start starts} it before writing its low watermark; the sink, at that
 * watermark, waits (briefly) for the {@link #consistentPoint}; the worker {@link #arm arms} it with
 * the slot's consistent point, then hands over the rows in batches ({@link #put}, {@link #end});
 * the sink {@link #take takes} them. Either side may give up ({@link #abandon}, {@link #fail}):
 * nothing of the table then counts as done, and the next attempt starts over with a new truncate.
 *
 * <p>Thread rule: the worker calls {@link #arm}, {@link #put}, {@link #end} and {@link #fail}; the sink
 * calls {@link #consistentPoint}, {@link #take}, {@link #abandon} and {@link #tell}.
 */
public final class KeylessRead {

    /** A batch's place in the queue when the rows are over, or the read failed. */
    private static final List<TupleData> END = new java.util.ArrayList<>(0);
    private static final List<TupleData> FAILED = new java.util.ArrayList<>(0);
    /** How long the sink waits at the low watermark for the temporary slot before it goes on without it. */
    public static final long SINK_WAIT_MILLIS = 10_000;

    private enum Phase { STARTED, ARMED, ABANDONED }

    private final String id;
    private final TableId table;
    private final Relation relation;
    private final Long estimate;
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.STARTED);
    private final CompletableFuture<Lsn> consistentPoint = new CompletableFuture<>();
    private final CompletableFuture<Chunk.Outcome> outcome = new CompletableFuture<>();
    private final BlockingQueue<List<TupleData>> batches = new ArrayBlockingQueue<>(2);
    private volatile boolean over;

    public KeylessRead(String id, TableId table, Relation relation, Long estimate) {
        this.id = id;
        this.table = table;
        this.relation = relation;
        this.estimate = estimate;
    }

    public String id() {
        return id;
    }

    public TableId table() {
        return table;
    }

    public Relation relation() {
        return relation;
    }

    public Long estimate() {
        return estimate;
    }

    /** What the sink made of it: SENT once every row went out, STALE when given up. */
    public CompletableFuture<Chunk.Outcome> outcome() {
        return outcome;
    }

    /**
     * The temporary slot exists: its consistent point is where the sink puts the table. False when
     * the sink gave up waiting first; the worker then drops the read.
     */
    public boolean arm(Lsn point) {
        if (!phase.compareAndSet(Phase.STARTED, Phase.ARMED)) {
            return false;
        }
        consistentPoint.complete(point);
        return true;
    }

    /**
     * The sink, at the read's low watermark: the consistent point, waiting at most {@code millis};
     * null when it did not come in time (the read is then abandoned, and {@link #arm} refuses).
     */
    public Lsn consistentPoint(long millis) throws InterruptedException {
        try {
            return consistentPoint.get(millis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return phase.compareAndSet(Phase.STARTED, Phase.ABANDONED) ? null : consistentPoint.getNow(null);
        } catch (java.util.concurrent.ExecutionException e) {
            return null;
        }
    }

    /** The worker: the next rows; false when the sink gave up on the read (stop reading). */
    public boolean put(List<TupleData> rows) throws InterruptedException {
        while (!over) {
            if (batches.offer(List.copyOf(rows), 200, TimeUnit.MILLISECONDS)) {
                return true;
            }
        }
        return false;
    }

    /** The worker: every row was put. */
    public void end() throws InterruptedException {
        while (!over && !batches.offer(END, 200, TimeUnit.MILLISECONDS)) {
            // the sink is still sending earlier batches
        }
    }

    /** The worker could not finish (its connection failed, or it stops): the sink gives up the read. */
    public void fail() {
        if (phase.compareAndSet(Phase.STARTED, Phase.ABANDONED)) {
            consistentPoint.complete(null);
        }
        over = true;
        batches.clear();
        batches.offer(FAILED);
        outcome.complete(Chunk.Outcome.STALE);
    }

    /** What {@link #take} found. */
    public sealed interface Next permits Rows, End, Failed {
    }

    public record Rows(List<TupleData> rows) implements Next {
    }

    public record End() implements Next {
    }

    public record Failed() implements Next {
    }

    /** The sink: the next batch, the end, or the failure; null while nothing came within {@code millis}. */
    public Next take(long millis) throws InterruptedException {
        List<TupleData> b = batches.poll(millis, TimeUnit.MILLISECONDS);
        if (b == null) {
            return over ? new Failed() : null;
        }
        if (b == END) {
            return new End();
        }
        if (b == FAILED) {
            return new Failed();
        }
        return new Rows(b);
    }

    /** The sink gives up on the read (it stops, or waited too long): the worker stops reading. */
    public void abandon() {
        phase.compareAndSet(Phase.STARTED, Phase.ABANDONED);
        over = true;
        batches.clear();
        outcome.complete(Chunk.Outcome.STALE);
    }

    /** The sink: how it ended. */
    public void tell(Chunk.Outcome result) {
        over = true;
        outcome.complete(result);
    }
}
