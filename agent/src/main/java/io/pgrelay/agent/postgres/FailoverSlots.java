package io.pgrelay.agent.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether the slot would survive a promotion of a physical standby (PostgreSQL 17 failover slots),
 * and what to set when it would not. Read from the primary ({@code pg_replication_slots.failover},
 * {@code synchronized_standby_slots} and the physical slots it names) and from every standby that
 * {@code postgres.url} names ({@code synced}, only visible there).
 */
public final class FailoverSlots {

    /**
     * The answer. {@code syncedOn} lists the standbys ({@code host:port}) holding a synced copy of
     * the slot; null when {@code postgres.url} named no standby that answered.
     */
    public record Readiness(boolean ready, List<Problem> problems, List<String> syncedOn) {
        public List<String> problemTexts() {
            return problems.stream().map(Problem::text).toList();
        }
    }

    /** @param stallsStreaming true when the agents cannot stream at all until it is fixed, not only after a promotion */
    public record Problem(String text, boolean stallsStreaming) {
    }

    /**
     * What the primary shows.
     *
     * @param standbySlots      the names in {@code synchronized_standby_slots}
     * @param physicalSlots     of those, the ones that are physical slots on the primary: name to {@code active}
     */
    record PrimaryFacts(int major, String version, String database, boolean slotExists, boolean slotFailover,
                        List<String> standbySlots, Map<String, Boolean> physicalSlots) {
    }

    /** What one standby shows; {@code synced} is null when it has no slot of that name. */
    record StandbyFacts(String host, boolean syncReplicationSlots, boolean hotStandbyFeedback, String primarySlotName,
                        Boolean synced) {
    }

    private FailoverSlots() {
    }

    /** Reads the primary on {@code primary}, then each other host of {@code postgres.url} that is a standby. */
    public static Readiness inspect(Connection primary, PgConnections connections, String slot) throws SQLException {
        PrimaryFacts facts = readPrimary(primary, slot);
        List<StandbyFacts> standbys = new ArrayList<>();
        if (facts.major() >= 17) {
            List<String> hosts = connections.hosts();
            for (String host : hosts.size() > 1 ? hosts : List.<String>of()) {
                try (Connection c = connections.openHost(host)) {
                    readStandby(c, host, slot, standbys);
                } catch (PgConnectException | SQLException unreachable) {
                    // a host that does not answer is no standby we can vouch for; the others still count
                }
            }
        }
        return judge(slot, facts, standbys);
    }

    static PrimaryFacts readPrimary(Connection c, String slot) throws SQLException {
        int major;
        String version;
        String database;
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('server_version_num')::int / 10000,"
                + " current_setting('server_version'), current_database()");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            major = rs.getInt(1);
            version = rs.getString(2);
            database = rs.getString(3);
        }
        if (major < 17) {
            return new PrimaryFacts(major, version, database, false, false, List.of(), Map.of());
        }
        boolean exists = false;
        boolean failover = false;
        List<String> standbySlots;
        try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT failover FROM pg_replication_slots WHERE slot_name = ?),"
                + " current_setting('synchronized_standby_slots')")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                failover = rs.getBoolean(1);
                exists = !rs.wasNull();
                standbySlots = slotNames(rs.getString(2));
            }
        }
        Map<String, Boolean> physical = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT slot_name, active FROM pg_replication_slots"
                + " WHERE slot_type = 'physical' AND slot_name = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", standbySlots.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    physical.put(rs.getString(1), rs.getBoolean(2));
                }
            }
        }
        return new PrimaryFacts(major, version, database, exists, failover, standbySlots, physical);
    }

    private static void readStandby(Connection c, String host, String slot, List<StandbyFacts> out) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_is_in_recovery(), current_setting('sync_replication_slots')::bool,"
                + " current_setting('hot_standby_feedback')::bool, current_setting('primary_slot_name'),"
                + " (SELECT synced AND NOT temporary AND invalidation_reason IS NULL FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getBoolean(1)) {
                    boolean synced = rs.getBoolean(5);
                    out.add(new StandbyFacts(host, rs.getBoolean(2), rs.getBoolean(3), rs.getString(4), rs.wasNull() ? null : synced));
                }
            }
        }
    }

    /** {@code synchronized_standby_slots} as names: comma-separated, each maybe double-quoted. */
    static List<String> slotNames(String setting) {
        if (setting == null || setting.isBlank()) {
            return List.of();
        }
        return Arrays.stream(setting.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .map(s -> s.length() > 1 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1).replace("\"\"", "\"") : s)
                .toList();
    }

    /** The verdict from the facts: no I/O, so each case has a unit test. */
    static Readiness judge(String slot, PrimaryFacts primary, List<StandbyFacts> standbys) {
        List<Problem> problems = new ArrayList<>();
        if (primary.major() < 17) {
            problems.add(new Problem("PostgreSQL " + primary.version() + " has no failover slots (they came with 17): a promoted"
                    + " standby would have no slot " + slot + "; upgrade PostgreSQL to 17 or later", false));
            return new Readiness(false, problems, null);
        }
        if (!primary.slotExists()) {
            problems.add(new Problem("slot " + slot + " does not exist yet; init (or run) creates it with failover = true", false));
        } else if (!primary.slotFailover()) {
            problems.add(new Problem("slot " + slot + " was created without failover, so no standby copies it; with no agent"
                    + " streaming, run ALTER_REPLICATION_SLOT " + slot + " (FAILOVER true) on a replication connection"
                    + " (psql \"dbname=" + primary.database() + " replication=database\")", false));
        }
        if (primary.standbySlots().isEmpty()) {
            problems.add(new Problem("synchronized_standby_slots is empty on the primary: the agents can be sent changes no"
                    + " standby has received yet, which a promotion loses; set synchronized_standby_slots to the physical slot"
                    + " of each standby that may be promoted, and reload", false));
        }
        for (String name : primary.standbySlots()) {
            Boolean active = primary.physicalSlots().get(name);
            if (active == null) {
                problems.add(new Problem("synchronized_standby_slots names " + name + ", which is no physical slot on the"
                        + " primary: logical decoding waits for it and the agents stall; create it for the standby"
                        + " (SELECT pg_create_physical_replication_slot('" + name + "')) or remove it from"
                        + " synchronized_standby_slots", true));
            } else if (!active) {
                problems.add(new Problem("no standby streams from physical slot " + name + " (synchronized_standby_slots):"
                        + " logical decoding waits for it and the agents stall until it is back; start that standby or"
                        + " remove " + name + " from synchronized_standby_slots", true));
            }
        }
        List<String> syncedOn = standbys.isEmpty() ? null : new ArrayList<>();
        for (StandbyFacts s : standbys) {
            if (Boolean.TRUE.equals(s.synced())) {
                syncedOn.add(s.host());
            } else {
                problems.add(new Problem(notSynced(slot, s), false));
            }
        }
        return new Readiness(problems.isEmpty(), List.copyOf(problems), syncedOn == null ? null : List.copyOf(syncedOn));
    }

    private static String notSynced(String slot, StandbyFacts s) {
        List<String> set = new ArrayList<>();
        if (!s.syncReplicationSlots()) {
            set.add("sync_replication_slots = on");
        }
        if (!s.hotStandbyFeedback()) {
            set.add("hot_standby_feedback = on");
        }
        if (s.primarySlotName() == null || s.primarySlotName().isEmpty()) {
            set.add("primary_slot_name (its physical slot on the primary)");
        }
        if (set.isEmpty()) {
            return "standby " + s.host() + " has no synced copy of slot " + slot + " yet: its slot sync worker copies it once"
                    + " the standby has replayed past the slot's position (check dbname in its primary_conninfo, and its log)";
        }
        return "standby " + s.host() + " has no synced copy of slot " + slot + "; on it set " + String.join(", ", set)
                + " and a dbname in primary_conninfo";
    }
}
