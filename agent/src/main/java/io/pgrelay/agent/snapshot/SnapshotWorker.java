package io.pgrelay.agent.snapshot;

import io.pgrelay.agent.core.Backoff;
import io.pgrelay.agent.core.SlotOrigin;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.TupleData;
import io.pgrelay.agent.postgres.PublicationAdmin;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * next rows by key ({@code WHERE (pk) > (last) ORDER BY pk LIMIT n}), or the next range of heap
 * pages by ctid for a table without a usable key; register the rows; write the high watermark;
 * wait until the sink has met it. The sink decides what is sent ({@code SnapshotWindows}).
 *
 * <p>A ctid chunk whose table changed inside its window is read again; after {@value #REDO_LIMIT}
 * such attempts it is read inside one transaction holding {@code LOCK TABLE … IN SHARE MODE}, which
 * keeps writers of that table waiting for the few milliseconds the chunk takes — so it ends.
 *
 * <p>Thread rule: its own thread runs {@link #run}; {@link #stop} may be called from any thread.
 */
public final class SnapshotWorker implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SnapshotWorker.class);
    static final int REDO_LIMIT = 3;
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** Opens a connection whose results come as text (see {@code PgConnections.openTextResults}). */
    @FunctionalInterface
    public interface Connections {
        Connection open() throws SQLException;
    }

    /**
     * @param requestAll  write a request for every published table first (modes initial and always)
     * @param origin      the slot's origin, null when not known: then a keyless table gets every row its
     *                    ranges hold, including rows the stream carried already
     * @param keylessDone keyless tables already snapshotted under that origin (read only here)
     */
    public record Settings(String slot, String publication, int chunkSize, long epoch, boolean requestAll,
                           SlotOrigin origin, Set<TableId> keylessDone) {
    }

    private final Connections connections;
    private final Settings settings;
    private final ChunkRegistry registry;
    private final Supplier<SnapshotState> state;
    private final Map<TableId, TableShape> shapes = new HashMap<>();
    private final Map<String, Integer> redos = new HashMap<>();
    private volatile boolean stopped;
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
        String id = settings.epoch() + "-" + (++chunks);
        String redoKey = table + "@" + progress.nextPage();
        boolean locked = shape != null && shape.keyless() && redos.getOrDefault(redoKey, 0) >= REDO_LIMIT;
        CompletableFuture<Chunk.Outcome> outcome = registry.expect(id, table);
        Connection c = connection();
        try {
            if (locked) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("LOCK TABLE " + table.quoted() + " IN SHARE MODE");
                }
            }
            emit(Watermark.WATERMARK, Watermark.low(id));
            Chunk chunk = shape == null ? ended(id, progress, "the table no longer exists or is not in the publication")
                    : shape.keyless() && settings.origin() != null && settings.keylessDone().contains(table)
                    ? ended(id, progress, "it has no key and its snapshot already completed on this slot: each of its rows is"
                            + " in Kafka once, and sending them again would duplicate them")
                    : shape.keyless() ? byCtid(id, shape, progress) : byKey(id, shape, progress);
            registry.selected(chunk);
            emit(Watermark.WATERMARK, Watermark.high(id));
            if (locked) {
                c.commit();
            }
        } catch (SQLException | RuntimeException e) {
            registry.forget(id);
            throw e;
        } finally {
            if (locked) {
                rollbackQuietly(c);
            }
        }
        Chunk.Outcome result = await(outcome);
        if (result == Chunk.Outcome.REDO) {
            int n = redos.merge(redoKey, 1, Integer::sum);
            log.info("slot {}: snapshot of {}: table changed while pages from {} were read; reading them again{}",
                    settings.slot(), table, progress.nextPage() == null ? 0 : progress.nextPage(),
                    n >= REDO_LIMIT ? " under a SHARE lock" : " (attempt " + (n + 1) + ")");
        } else {
            redos.remove(redoKey);
        }
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
        return new Chunk(id, p.table(), null, List.of(), p.lastKey(), p.nextPage(), p.lastKey(), p.nextPage(), true, false,
                false, p.estimate(), note);
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
                lastKey == null ? p.lastKey() : lastKey, null, last, false, false, shape.estimate(), null);
    }

    private Chunk byCtid(String id, TableShape shape, SnapshotState.TableProgress p) throws SQLException {
        long from = p.nextPage() == null ? 0 : p.nextPage();
        long to = from + shape.pagesPerChunk();
        long pages;
        try (PreparedStatement ps = connection().prepareStatement(
                "SELECT pg_relation_size(?::regclass) / current_setting('block_size')::bigint")) {
            ps.setString(1, shape.table().quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                pages = rs.getLong(1);
            }
        }
        List<TupleData> rows = new ArrayList<>();
        int n = shape.relation().columns().size();
        SlotOrigin origin = settings.origin();
        if (from < pages) {
            String sql = "SELECT " + shape.selectList() + " FROM " + shape.table().quoted() + " WHERE ctid >= ?::tid AND ctid < ?::tid"
                    + (origin == null ? "" : " AND " + VISIBLE_AT_ORIGIN);
            try (PreparedStatement ps = connection().prepareStatement(sql)) {
                ps.setString(1, "(" + from + ",0)");
                ps.setString(2, "(" + to + ",0)");
                if (origin != null) {
                    ps.setString(3, origin.snapshot());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(row(rs, n));
                    }
                }
            }
        }
        // Rows on pages past the end counted here were written after the low watermark: the stream has them.
        return new Chunk(id, shape.table(), shape.relation(), rows, p.lastKey(), p.nextPage(), null, to, to >= pages,
                true, origin != null, shape.estimate(), null);
    }

    /**
     * True for a row version whose inserting transaction is visible in the slot's origin snapshot
     * (parameter 3): it committed before the slot's first change, so the stream never carried it.
     * Every other committed row version came from a transaction the stream carries (see
     * {@link SlotOrigin}). {@code xmin} is 32 bits; it is widened to the 64-bit {@code xid8} that
     * {@code pg_visible_in_snapshot} takes against the statement's own next transaction id, which
     * is exact for a row written fewer than 2^32 transactions ago.
     */
    private static final String VISIBLE_AT_ORIGIN = "pg_visible_in_snapshot(("
            + "(SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint) - ((((SELECT pg_snapshot_xmax(pg_current_snapshot()))"
            + "::text::bigint - xmin::text::bigint) % 4294967296) + 4294967296) % 4294967296)::text::xid8, ?::pg_snapshot)";

    private static TupleData row(ResultSet rs, int columns) throws SQLException {
        TupleData.Builder b = TupleData.builder();
        for (int i = 1; i <= columns; i++) {
            b.text(rs.getString(i));
        }
        return b.build();
    }

    private TableShape shape(TableId table) throws SQLException {
        TableShape shape = TableShape.read(connection(), table, settings.publication(), settings.chunkSize());
        shapes.put(table, shape);
        if (shape != null && shape.keyless()) {
            log.info("slot {}: {} has no primary key or replica identity index: snapshot in ranges of {} heap pages by ctid",
                    settings.slot(), table, shape.pagesPerChunk());
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
