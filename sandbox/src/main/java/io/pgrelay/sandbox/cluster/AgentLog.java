package io.pgrelay.sandbox.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading the agents' logs ({@code 2026-12-07T09:13:32.123Z LEVEL [thread] logger - message}): what
 * each agent said about a fault between two moments.
 */
public final class AgentLog {

    private AgentLog() {
    }

    /** One line of an agent's log, with its time. */
    public record Line(String agent, long millis, String text) {
        /** The line without its time stamp, thread and logger: level and message. */
        public String message() {
            int dash = text.indexOf(" - ");
            String level = text.length() > 30 ? text.substring(25, 30).trim() : "";
            return dash < 0 ? text : level + " " + text.substring(dash + 3);
        }
    }

    /** An agent log line's time, from its ISO-8601 UTC prefix; 0 for a line without one. */
    public static long timestamp(String line) {
        try {
            return Instant.parse(line.substring(0, line.indexOf(' '))).toEpochMilli();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The whole log of {@code m} so far. */
    public static String of(Cluster.Member m) {
        try {
            return m.process().log();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A line logged by pgrelay's own code ({@code io.pgrelay…}, abbreviated {@code i.p.…} or {@code i.pgrelay.…}). */
    static boolean ownLine(String line) {
        int bracket = line.indexOf("] ");
        if (bracket < 0) {
            return false;
        }
        String logger = line.substring(bracket + 2);
        return logger.startsWith("io.pgrelay.") || logger.startsWith("i.p.") || logger.startsWith("i.pgrelay.");
    }

    /** A line that says an agent noticed something: a warning, an error, or a change of leader. */
    public static boolean noticing(String line) {
        return line.contains(" WARN ") || line.contains(" ERROR ") || line.contains("streaming as leader") || line.contains(" leads cluster");
    }

    /** Each agent's first {@code perAgent} noticing lines from {@code from} to {@code to} (epoch millis), earliest first. */
    public static List<Line> noticed(Cluster cluster, long from, long to, int perAgent) {
        return noticed(cluster, from, to, perAgent, false);
    }

    /**
     * As {@link #noticed(Cluster, long, long, int)}; with {@code ownFirst}, an agent's lines from pgrelay's own
     * code when it logged any, its clients' (Kafka's, ZooKeeper's, the pool's) only when it did not: a
     * producer's retry warnings go on for a while after a fault, and would be taken for the next one's.
     */
    public static List<Line> noticed(Cluster cluster, long from, long to, int perAgent, boolean ownFirst) {
        List<Line> lines = new ArrayList<>();
        for (Cluster.Member m : cluster.members()) {
            List<String> all = of(m).lines().filter(l -> {
                long t = timestamp(l);
                return t >= from && t <= to;
            }).filter(AgentLog::noticing).toList();
            List<String> own = all.stream().filter(AgentLog::ownLine).toList();
            (ownFirst && !own.isEmpty() ? own : all).stream().limit(perAgent).forEach(l -> lines.add(new Line(m.id(), timestamp(l), l)));
        }
        lines.sort(java.util.Comparator.comparingLong(Line::millis));
        return lines;
    }
}
