package io.pgrelay.sandbox.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgrelay.sandbox.demo.Verdict;
import io.pgrelay.sandbox.demo.VersionLedger;
import io.pgrelay.sandbox.server.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The chaos drill's continuous verifier: a {@code read_committed} consumer of the load's topic on a
 * thread of its own that judges each record as it arrives — a row version read twice, a row's
 * version read after a later one, an epoch lower than one already read in the same partition, a
 * second agent with records in one epoch — and keeps, per record, only what the drill measures
 * with: when it arrived, when PostgreSQL committed it, its epoch and agent. Loss is judged at the
 * end ({@link #finish}), against the table.
 */
final class ChaosVerifier implements AutoCloseable {

    /** A rule broken, when it was seen. */
    record Violation(long atMillis, String what) {
    }

    /** What the drill keeps of one record: read at {@code arrivedMillis}, committed in PostgreSQL at {@code committedMillis}. */
    record Arrival(long arrivedMillis, long committedMillis, long epoch, String agent, long id, int version, String commitLsn) {
    }

    private static final int VIOLATIONS_KEPT = 50;

    private final TopicReader reader;
    private final Thread thread;
    private volatile boolean closed;

    // only the reader thread writes these; everyone reads them under the lock
    private final Object lock = new Object();
    private final VersionLedger ledger = new VersionLedger();
    private final List<Arrival> arrivals = new ArrayList<>();
    private final Map<Integer, Long> lastEpochByPartition = new HashMap<>();
    private final Map<Long, Set<String>> agentsByEpoch = new TreeMap<>();
    private final List<Violation> violations = new ArrayList<>();
    private long violationCount;
    private RuntimeException failure;
    private List<String> missingReport = List.of();

    ChaosVerifier(String bootstrapServers, String topic) {
        reader = new TopicReader(bootstrapServers, topic);
        thread = new Thread(this::readUntilClosed, "chaos-verifier");
        thread.setDaemon(true);
        thread.start();
    }

    private void readUntilClosed() {
        try {
            while (!closed) {
                List<ConsumerRecord<String, String>> batch = reader.poll(Duration.ofMillis(50));
                long now = System.currentTimeMillis();
                synchronized (lock) {
                    batch.forEach(r -> judge(r, now));
                }
            }
        } catch (RuntimeException e) {
            synchronized (lock) {
                failure = e;
            }
        }
    }

    /** Called under the lock. */
    private void judge(ConsumerRecord<String, String> r, long now) {
        if (r.value() == null) {
            return;
        }
        JsonNode event = Verdict.parse(r.value());
        long epoch = Long.parseLong(header(r, "pgrelay.epoch"));
        String agent = header(r, "pgrelay.agent");
        String where = r.topic() + "-" + r.partition() + "@" + r.offset() + " (epoch " + epoch + ", " + agent + ")";
        switch (ledger.accept(event)) {
            case DUPLICATE -> violation(now, "duplicate: row " + event.path("after").path("id").asLong() + " version "
                    + event.path("after").path("version").asInt() + " read again at " + where);
            case OUT_OF_ORDER -> violation(now, "out of order: row " + event.path("after").path("id").asLong() + " version "
                    + event.path("after").path("version").asInt() + " after a later one, at " + where);
            default -> { }
        }
        Long last = lastEpochByPartition.put(r.partition(), epoch);
        if (last != null && epoch < last) {
            violation(now, "epoch went back in partition " + r.partition() + ": " + epoch + " after " + last + ", at " + where);
        }
        Set<String> agents = agentsByEpoch.computeIfAbsent(epoch, e -> new TreeSet<>());
        if (agents.add(agent) && agents.size() > 1) {
            violation(now, "two agents committed in epoch " + epoch + ": " + agents + ", at " + where);
        }
        long committed = Instant.parse(event.path("committedAt").asText()).toEpochMilli();
        arrivals.add(new Arrival(now, committed, epoch, agent, event.path("after").path("id").asLong(),
                event.path("after").path("version").asInt(), event.path("commitLsn").asText()));
    }

    private void violation(long now, String what) {
        violationCount++;
        if (violations.size() < VIOLATIONS_KEPT) {
            violations.add(new Violation(now, what));
        }
    }

    private static String header(ConsumerRecord<String, String> r, String name) {
        Header h = r.headers().lastHeader(name);
        if (h == null) {
            throw new IllegalStateException("record " + r.topic() + "-" + r.partition() + "@" + r.offset() + " has no " + name + " header");
        }
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    /** How many records have arrived: a position to look for arrivals after. */
    int size() {
        synchronized (lock) {
            return arrivals.size();
        }
    }

    /** The first record read from {@code from} on that PostgreSQL committed after {@code millis}, if one has arrived. */
    Optional<Arrival> firstCommittedAfter(int from, long millis) {
        synchronized (lock) {
            rethrow();
            for (int i = from; i < arrivals.size(); i++) {
                if (arrivals.get(i).committedMillis() > millis) {
                    return Optional.of(arrivals.get(i));
                }
            }
            return Optional.empty();
        }
    }

    /** The first record read from {@code from} on of an epoch above {@code epoch}, if one has arrived. */
    Optional<Arrival> firstOfEpochAbove(int from, long epoch) {
        synchronized (lock) {
            for (int i = from; i < arrivals.size(); i++) {
                if (arrivals.get(i).epoch() > epoch) {
                    return Optional.of(arrivals.get(i));
                }
            }
            return Optional.empty();
        }
    }

    /** The last record read, if any. */
    Optional<Arrival> lastArrival() {
        synchronized (lock) {
            return arrivals.isEmpty() ? Optional.empty() : Optional.of(arrivals.get(arrivals.size() - 1));
        }
    }

    /** The highest epoch read so far (-1: none). */
    long maxEpoch() {
        synchronized (lock) {
            return lastEpochByPartition.values().stream().mapToLong(Long::longValue).max().orElse(-1);
        }
    }

    /** The rules broken so far: the first {@value #VIOLATIONS_KEPT}, and how many in all. */
    List<Violation> violations() {
        synchronized (lock) {
            return List.copyOf(violations);
        }
    }

    long violationCount() {
        synchronized (lock) {
            return violationCount;
        }
    }

    /** Epoch → the agents that committed records in it. */
    Map<Long, Set<String>> agentsByEpoch() {
        synchronized (lock) {
            Map<Long, Set<String>> copy = new TreeMap<>();
            agentsByEpoch.forEach((e, a) -> copy.put(e, Set.copyOf(a)));
            return copy;
        }
    }

    /**
     * Once the load has stopped: waits until every row version of the table has been read (at most
     * {@code timeout}), then two seconds more for strays, and judges loss, duplicates and order
     * against the table's final state.
     */
    Verdict finish(Connection c, String table, Duration timeout) throws SQLException, InterruptedException {
        Map<Long, Integer> versions = Verdict.finalVersions(c, table);
        long expected = Verdict.expectedEvents(versions);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (lock) {
                rethrow();
                if (ledger.events() >= expected && ledger.verdict(versions, true).missing() == 0) {
                    break;
                }
            }
            Thread.sleep(500);
        }
        Thread.sleep(2_000);   // a duplicate would come right after
        synchronized (lock) {
            rethrow();
            Verdict verdict = ledger.verdict(versions, true);
            if (verdict.missing() > 0) {
                describeMissing(versions);
            }
            return verdict;
        }
    }

    /**
     * For a verdict with rows missing: the runs of rows never read (by id: the load inserts ids in
     * order) and the records read just before and after each run, to find the fault that lost them.
     */
    private void describeMissing(Map<Long, Integer> versions) {
        List<long[]> missing = ledger.missing(versions, 100_000);
        Map<Long, Arrival> inserts = new HashMap<>();
        for (Arrival a : arrivals) {
            if (a.version() == 0) {
                inserts.put(a.id(), a);
            }
        }
        List<long[]> runs = new ArrayList<>();   // {first id, last id, count} of missing inserts
        long updates = 0;
        for (long[] m : missing) {
            if (m[1] != 0) {
                updates++;
            } else if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == m[0] - 1) {
                runs.get(runs.size() - 1)[1] = m[0];
            } else {
                runs.add(new long[] {m[0], m[0]});
            }
        }
        missingReport = new ArrayList<>();
        missingReport.add(missing.size() + " row versions missing: " + (missing.size() - updates) + " inserts in " + runs.size()
                + " run(s), " + updates + " updates");
        for (long[] r : runs.subList(0, Math.min(runs.size(), 20))) {
            missingReport.add("  rows " + r[0] + "–" + r[1] + " never read; before them " + describe(inserts.get(r[0] - 1))
                    + "; after them " + describe(inserts.get(r[1] + 1)));
        }
    }

    private static String describe(Arrival a) {
        return a == null ? "nothing read" : "row " + a.id() + " (commit " + a.commitLsn() + " at " + Instant.ofEpochMilli(a.committedMillis())
                + ", read " + Instant.ofEpochMilli(a.arrivedMillis()) + ", epoch " + a.epoch() + ", " + a.agent() + ")";
    }

    /** What {@link #finish} found of the rows missing, if any were. */
    List<String> missingReport() {
        synchronized (lock) {
            return List.copyOf(missingReport);
        }
    }

    private void rethrow() {
        if (failure != null) {
            throw new IllegalStateException("the verifier's consumer failed: " + failure.getMessage(), failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(5_000);
        reader.close();
    }
}
