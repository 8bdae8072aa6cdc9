package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.Backoff;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.postgres.PublicationAdmin;
import io.pgrelay.agent.postgres.SlotAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The leader's snapshot thread: reads the table the {@link SnapshotState} names next, one chunk at
 * a time, each between a low and a high watermark written into the WAL. It reads with an ordinary
 * connection and no exported snapshot, so a new leader continues where the checkpoint says.
 *
 * <p>Per chunk: register the chunk's id; write the low watermark (its own transaction); SELECT the
 * next rows by key ({@code WHERE (pk) > (last) ORDER BY pk LIMIT n}); register the rows; write the
 * high watermark; wait until the sink has met it. The sink decides what is sent ({@code SnapshotWindows}).
 *
 * <p>A table without a usable key has nothing to match a stream event to a snapshot row, so it is
 * not chunked: it is read whole, in the snapshot of a temporary slot, and sent at that slot's
 * consistent point after a truncate ({@link #wholeTable}, {@link KeylessRead}). A leader that dies in
 * the middle leaves it to the next one, which starts the table over (a new truncate, then every row).
 *
 * <p>Thread rule: its own thread runs {@link #run}; {@link #stop} may be called from any thread.
 */
public final class SnapshotWorker implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SnapshotWorker.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** The connections a snapshot reads with. */
    public interface Connections {
        /** A connection whose results come as text (see {@code PgConnections.openTextResults}). */
        Connection open() throws SQLException;

        /** A replication connection ({@code replication=database}), for a temporary slot. */
        Connection openReplication() throws SQLException;
    }

    /**
     * @param requestAll write a request for every published table first (modes initial and always)
     */
    public record Settings(String slot, String publication, int chunkSize, long epoch, boolean requestAll) {
    }

    private final Connections connections;
    private final Settings settings;
    private final ChunkRegistry registry;
    private final Supplier<SnapshotState> state;
    private final Map<TableId, TableShape> shapes = new HashMap<>();
    private volatile boolean stopped;
    /** The keyless table being read whole, if one is. */
    private volatile KeylessRead current;
    private Connection connection;
    private long chunks;

    public SnapshotWorker(Connections connections, Settings settings, ChunkRegistry registry, Supplier<SnapshotState> state) {
        this.connections = connections;
        this.settings = settings;
        this.registry = registry;
        this.state = state;
    }

    public void stop() {
        stopped = true;
        KeylessRead read = current;
        if (read != null) {
            read.fail();
        }
    }

    @Override
    public void run() {
        boolean requested = !settings.requestAll();
        Backoff backoff = new Backoff(Duration.ofSeconds(1), MAX_BACKOFF);
        try {
            while (!stopped) {
                try {
                    if (!requested) {
                        List<TableId> tables = publishedTables();
                        if (!tables.isEmpty()) {
                            emit(Watermark.REQUEST, Watermark.request(tables));
                            log.info("slot {}: snapshot of the {} published tables requested", settings.slot(), tables.size());
                        }
                        requested = true;
                        continue;
                    }
                    SnapshotState.TableProgress next = state.get().current().orElse(null);
                    if (next == null) {
                        Thread.sleep(100);
                        continue;
                    }
                    chunk(next);
                    backoff.reset();
                } catch (SQLException | RuntimeException e) {
                    if (stopped) {
                        break;
                    }
                    log.warn("slot {}: snapshot chunk failed: {}; retrying in {} ms", settings.slot(), e.getMessage(), backoff.current().toMillis());
                    log.debug("slot {}: snapshot failure detail", settings.slot(), e);
                    closeConnection();
                    shapes.clear();
                    Thread.sleep(backoff.current().toMillis());
                    backoff.increase();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeConnection();
        }
    }

    private void chunk(SnapshotState.TableProgress progress) throws SQLException, InterruptedException {
        TableId table = progress.table();
        TableShape shape = shapes.containsKey(table) ? shapes.get(table) : shape(table);
        if (shape != null && shape.keyless()) {
            wholeTable(shape);
            return;
        }
        String id = settings.epoch() + "-" + (++chunks);
        CompletableFuture<Chunk.Outcome> outcome = registry.expect(id, table);
        try {
            emit(Watermark.WATERMARK, Watermark.low(id));
            Chunk chunk = shape == null ? ended(id, progress, "the table no longer exists or is not in the publication")
                    : byKey(id, shape, progress);
            registry.selected(chunk);
            emit(Watermark.WATERMARK, Watermark.high(id));
        } catch (SQLException | RuntimeException e) {
            registry.forget(id);
            throw e;
        }
        await(outcome);
    }

    /**
     * A table without a key, whole, in one consistent read (see {@link KeylessRead}): a low
     * watermark (the sink waits there for the consistent point); a temporary slot whose exported
     * snapshot a second connection imports; the slot's consistent point to the sink; a high
     * watermark (a transaction after that point, so the sink meets it even when nothing else
     * commits); then the rows, a batch at a time, while the sink sends them.
     */
    private void wholeTable(TableShape shape) throws SQLException, InterruptedException {
        awaitRunningTransactions(shape.table());
        String id = settings.epoch() + "-" + (++chunks);
        KeylessRead read = new KeylessRead(id, shape.table(), shape.relation(), shape.estimate());
        registry.expect(read);
        current = read;
        Connection reading = null;
        try {
            emit(Watermark.WATERMARK, Watermark.low(id));
            reading = connections.open();
            SlotAdmin.Exported exported;
            try (Connection replication = connections.openReplication()) {
                exported = SlotAdmin.createTemporary(replication, connection().getMetaData().getDatabaseMajorVersion(),
                        temporarySlot());
                reading.setAutoCommit(false);
                try (Statement s = reading.createStatement()) {
                    s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                    s.execute("SET TRANSACTION SNAPSHOT '" + exported.snapshot().replace("'", "''") + "'");
                }
            } // closing the replication connection drops the temporary slot; the imported snapshot stays
            if (!read.arm(exported.consistentPoint())) {
                log.warn("slot {}: snapshot of {}: the stream waited {} ms for a consistent point and went on; trying again",
                        settings.slot(), shape.table(), KeylessRead.SINK_WAIT_MILLIS);
                return;
            }
            emit(Watermark.WATERMARK, Watermark.high(id));
            int n = shape.relation().columns().size();
            try (PreparedStatement ps = reading.prepareStatement("SELECT " + shape.selectList() + " FROM " + shape.table().quoted())) {
                ps.setFetchSize(settings.chunkSize());
                try (ResultSet rs = ps.executeQuery()) {
                    List<TupleData> batch = new ArrayList<>(settings.chunkSize());
                    while (rs.next() && !stopped) {
                        batch.add(row(rs, n));
                        if (batch.size() == settings.chunkSize()) {
                            if (!read.put(batch)) {
                                return;
                            }
                            batch.clear();
                        }
                    }
                    if (stopped || !read.put(batch)) {
                        return;
                    }
                }
            }
            read.end();
            reading.commit();
            await(read.outcome());
        } finally {
            registry.takeKeyless(id);
            current = null;
            read.fail();   // no effect once the sink has told the outcome
            if (reading != null) {
                try {
                    reading.close();
                } catch (SQLException ignored) {
                    // going away
                }
            }
        }
    }

    /**
     * Creating a logical slot waits for the transactions running at that moment, and the stream
     * waits at the low watermark meanwhile: so first let the transactions running now end (a long
     * one is named in the log every 30 s).
     */
    private void awaitRunningTransactions(TableId table) throws SQLException, InterruptedException {
        String newest;
        try (Statement s = connection().createStatement();
             ResultSet rs = s.executeQuery("SELECT max(x::text::bigint)::text FROM pg_snapshot_xip(pg_current_snapshot()) x")) {
            rs.next();
            newest = rs.getString(1);
        }
        if (newest == null) {
            return;
        }
        long since = System.nanoTime();
        long told = since;
        try (PreparedStatement ps = connection().prepareStatement(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > ?::bigint")) {
            ps.setString(1, newest);
            while (!stopped) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() - told > 30_000_000_000L) {
                    told = System.nanoTime();
                    log.warn("slot {}: snapshot of {} waits for transactions running since {} s to end (a consistent read"
                            + " needs a temporary slot, which waits for them): {}", settings.slot(), table,
                            (told - since) / 1_000_000_000L, longTransactions());
                }
                Thread.sleep(50);
            }
        }
    }

    private String longTransactions() throws SQLException {
        try (Statement s = connection().createStatement();
             ResultSet rs = s.executeQuery("SELECT string_agg('pid ' || pid || ' since ' || xact_start::text, ', ') FROM pg_stat_activity"
                     + " WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()")) {
            rs.next();
            String which = rs.getString(1);
            return which == null ? "(not visible to this role)" : which;
        }
    }

    /** Unique per leader term; within PostgreSQL's 63 characters. */
    private String temporarySlot() {
        String base = settings.slot().length() > 40 ? settings.slot().substring(0, 40) : settings.slot();
        return base + "_snap_" + settings.epoch();
    }

    private Chunk.Outcome await(CompletableFuture<Chunk.Outcome> outcome) throws InterruptedException {
        while (!stopped) {
            try {
                return outcome.get(500, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // the sink has not reached the high watermark yet
            } catch (ExecutionException e) {
                return Chunk.Outcome.STALE;
            }
        }
        return Chunk.Outcome.STALE;
    }

    /** A table that ends without rows (gone, or nothing to add): ends it with a note, through the watermarks like any chunk. */
    private static Chunk ended(String id, SnapshotState.TableProgress p, String note) {
        return new Chunk(id, p.table(), null, List.of(), p.lastKey(), p.nextPage(), p.lastKey(), p.nextPage(), true,
                p.estimate(), note);
    }

    private Chunk byKey(String id, TableShape shape, SnapshotState.TableProgress p) throws SQLException {
        int n = shape.relation().columns().size();
        int k = shape.keyColumns().size();
        StringBuilder sql = new StringBuilder("SELECT ").append(shape.selectList()).append(" FROM ").append(shape.table().quoted());
        String keyList = String.join(", ", shape.keyColumns().stream().map(TableId::quoteIdent).toList());
        if (p.lastKey() != null) {
            sql.append(" WHERE (").append(keyList).append(") > (");
            for (int i = 0; i < k; i++) {
                sql.append(i > 0 ? ", " : "").append("?::").append(shape.keyTypes().get(i));
            }
            sql.append(')');
        }
        sql.append(" ORDER BY ").append(keyList).append(" LIMIT ").append(settings.chunkSize());
        List<TupleData> rows = new ArrayList<>();
        List<String> lastKey = null;
        try (PreparedStatement ps = connection().prepareStatement(sql.toString())) {
            if (p.lastKey() != null) {
                for (int i = 0; i < k; i++) {
                    ps.setString(i + 1, p.lastKey().get(i));
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(row(rs, n));
                    lastKey = new ArrayList<>(k);
                    for (int i = 0; i < k; i++) {
                        lastKey.add(rs.getString(n + 1 + i));
                    }
                }
            }
        }
        boolean last = rows.size() < settings.chunkSize();
        return new Chunk(id, shape.table(), shape.relation(), rows, p.lastKey(), p.nextPage(),
                lastKey == null ? p.lastKey() : lastKey, null, last, shape.estimate(), null);
    }

    private static TupleData row(ResultSet rs, int columns) throws SQLException {
        TupleData.Builder b = TupleData.builder();
        for (int i = 1; i <= columns; i++) {
            b.text(rs.getString(i));
        }
        return b.build();
    }

    private TableShape shape(TableId table) throws SQLException {
        TableShape shape = TableShape.read(connection(), table, settings.publication());
        shapes.put(table, shape);
        if (shape != null && shape.keyless()) {
            log.info("slot {}: {} has no primary key or replica identity index: it is read whole, in a temporary slot's"
                    + " snapshot, and sent after a truncate at that slot's consistent point", settings.slot(), table);
        }
        return shape;
    }

    private List<TableId> publishedTables() throws SQLException {
        return new PublicationAdmin(connection()).publishedTables(settings.publication());
    }

    /** A transactional logical decoding message: in autocommit its own transaction, else part of the open one. */
    private void emit(String prefix, String content) throws SQLException {
        try (PreparedStatement ps = connection().prepareStatement("SELECT pg_logical_emit_message(true, ?, ?)")) {
            ps.setString(1, prefix);
            ps.setString(2, content);
            ps.execute();
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = connections.open();
            try (Statement s = connection.createStatement()) {
                // A watermark reaches the slot only once its commit record is flushed; with the server's
                // synchronous_commit = off that waits for the WAL writer (wal_writer_delay, 200 ms by
                // default) — twice per chunk. 'local' flushes at once without waiting for standbys.
                s.execute("SET synchronous_commit = local");
            }
        }
        return connection;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException ignored) {
            // the connection is closed on the next failure anyway
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // going away
            }
            connection = null;
        }
    }
}
