package io.pgrelay.sandbox.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@code read_committed} consumer saw of a {@link LoadGenerator} table, against the table's
 * final state in PostgreSQL: every version of every row must arrive exactly once, each key's
 * versions in order.
 */
public record Verdict(long expected, long found, long missing, long duplicated, long outOfOrder) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public boolean clean() {
        return missing == 0 && duplicated == 0 && outOfOrder == 0 && found == expected;
    }

    @Override
    public String toString() {
        return "expected " + expected + ", found " + found + ", missing " + missing + ", duplicated " + duplicated
                + ", out of order " + outOfOrder + (clean() ? " — OK" : " — FAILED");
    }

    /** Final version of every row of the table. */
    public static Map<Long, Integer> finalVersions(Connection c, String table) throws SQLException {
        Map<Long, Integer> versions = new HashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, version FROM " + table)) {
            while (rs.next()) {
                versions.put(rs.getLong(1), rs.getInt(2));
            }
        }
        return versions;
    }

    public static long expectedEvents(Map<Long, Integer> finalVersions) {
        long n = 0;
        for (int v : finalVersions.values()) {
            n += v + 1;
        }
        return n;
    }

    /** Checks insert and update events (tombstones and other ops are ignored) against the table's final state. */
    public static Verdict of(List<ConsumerRecord<String, String>> records, Map<Long, Integer> finalVersions) {
        return check(records, finalVersions, true);
    }

    /**
     * As {@link #of}, for a table still being written: {@code versions} is a look at the table at
     * some moment, and only the row versions up to it are expected and counted as found. Versions
     * written after the look still count for duplicates and order.
     */
    public static Verdict upTo(List<ConsumerRecord<String, String>> records, Map<Long, Integer> versions) {
        return check(records, versions, false);
    }

    /** @param finalState every event counts as found (the table no longer changes), else only those up to {@code versions} */
    private static Verdict check(List<ConsumerRecord<String, String>> records, Map<Long, Integer> versions, boolean finalState) {
        VersionLedger ledger = new VersionLedger();
        for (ConsumerRecord<String, String> r : records) {
            if (r.value() != null) {
                ledger.accept(parse(r.value()));
            }
        }
        return ledger.verdict(versions, finalState);
    }

    /** A record's value as JSON; an {@link UncheckedIOException} naming it when it is not JSON. */
    public static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }
}
