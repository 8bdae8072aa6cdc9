package io.pgrelay.agent.alert;

import io.pgrelay.agent.config.AlertsConfig;
import io.pgrelay.agent.config.Units;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The alert rules and their state: which alerts fire, since when. Pure logic — the caller passes
 * what it observed and its clock — so every rule has a unit test. Every agent evaluates the same
 * rules on its own look at the slot, so alerts work while no agent leads.
 *
 * <p>Thread rule: {@link #evaluate} is called by one thread (the slot watcher's); {@link #firing}
 * may be called by any thread.
 */
public final class AlertRules {

    /** Every alert, in the order {@code /status} and the metric list them. */
    public enum Rule {
        SLOT_LAG_BYTES_WARNING("slot_lag_bytes", "warning"),
        SLOT_LAG_BYTES_CRITICAL("slot_lag_bytes", "critical"),
        REPLICATION_LAG_SECONDS("replication_lag_seconds", "warning"),
        SLOT_INACTIVE("slot_inactive", "critical"),
        WAL_UNRESERVED("wal_unreserved", "critical"),
        WAL_LOST("wal_lost", "critical"),
        SLOT_MISSING("slot_missing", "critical"),
        NO_LEADER("no_leader", "critical");

        public final String alertName;
        public final String severity;

        Rule(String alertName, String severity) {
            this.alertName = alertName;
            this.severity = severity;
        }
    }

    /**
     * What one look at the slot and the election showed; a null number is not known.
     *
     * @param slotRefusal why the agents refuse to stream from the slot (missing, lost, created anew), null when they do not
     */
    public record Observation(boolean slotReadable, boolean slotExists, boolean slotActive, String walStatus,
                              Long lagBytes, Double lagSeconds, boolean leaderKnown, String slotRefusal) {
    }

    public record Alert(Rule rule, String summary, Instant since) {
    }

    /** An alert that began or ended at this evaluation. */
    public record Change(Alert alert, boolean firing, Instant at) {
    }

    private final AlertsConfig config;
    private final String slot;
    private final Map<Rule, Alert> firing = new LinkedHashMap<>(); // guarded by this
    private Instant inactiveSince;  // only the evaluating thread touches these two
    private Instant noLeaderSince;

    public AlertRules(AlertsConfig config, String slot) {
        this.config = config;
        this.slot = slot;
    }

    /**
     * Applies every rule to the observation. A slot that could not be read leaves the slot rules
     * as they were: not seeing the slot is no reason to call a problem solved.
     */
    public List<Change> evaluate(Observation o, Instant now) {
        Map<Rule, String> wanted = new LinkedHashMap<>(); // rule → summary, for each rule whose condition holds
        if (o.slotReadable()) {
            if (!o.slotExists()) {
                inactiveSince = null;
            } else {
                long lag = o.lagBytes() == null ? 0 : o.lagBytes();
                if (lag >= config.lagBytesWarning()) {
                    wanted.put(Rule.SLOT_LAG_BYTES_WARNING, lagSummary(lag, config.lagBytesWarning()));
                }
                if (lag >= config.lagBytesCritical()) {
                    wanted.put(Rule.SLOT_LAG_BYTES_CRITICAL, lagSummary(lag, config.lagBytesCritical()));
                }
                if (o.lagSeconds() != null && o.lagSeconds() >= config.lagSeconds().toMillis() / 1000.0) {
                    wanted.put(Rule.REPLICATION_LAG_SECONDS, String.format("slot %s: the oldest unconfirmed change is %.0f s old (threshold %s)",
                            slot, o.lagSeconds(), Units.formatDuration(config.lagSeconds())));
                }
                inactiveSince = o.slotActive() ? null : inactiveSince == null ? now : inactiveSince;
                if (inactiveSince != null && !now.isBefore(inactiveSince.plus(config.slotInactiveFor()))) {
                    wanted.put(Rule.SLOT_INACTIVE, "slot " + slot + ": no walsender has held it for "
                            + Duration.between(inactiveSince, now).toSeconds() + " s (threshold " + Units.formatDuration(config.slotInactiveFor()) + ")");
                }
                if ("unreserved".equals(o.walStatus())) {
                    wanted.put(Rule.WAL_UNRESERVED, "slot " + slot + ": wal_status is unreserved: the WAL it needs is beyond "
                            + "max_slot_wal_keep_size and will be removed at the next checkpoint");
                }
                if ("lost".equals(o.walStatus())) {
                    wanted.put(Rule.WAL_LOST, "slot " + slot + ": wal_status is lost: WAL it needs was removed; the slot "
                            + "cannot stream any more and must be recreated (changes in between are lost)");
                }
            }
        }
        if (o.slotRefusal() != null) {
            wanted.put(Rule.SLOT_MISSING, o.slotRefusal());
        }
        noLeaderSince = o.leaderKnown() ? null : noLeaderSince == null ? now : noLeaderSince;
        if (noLeaderSince != null && !now.isBefore(noLeaderSince.plus(config.noLeaderFor()))) {
            wanted.put(Rule.NO_LEADER, "no agent has led the cluster for " + Duration.between(noLeaderSince, now).toSeconds()
                    + " s (threshold " + Units.formatDuration(config.noLeaderFor()) + ")");
        }
        List<Change> changes = new ArrayList<>();
        synchronized (this) {
            for (Rule rule : Rule.values()) {
                boolean slotRule = rule != Rule.NO_LEADER && rule != Rule.SLOT_MISSING;
                if (slotRule && !o.slotReadable()) {
                    continue;
                }
                Alert current = firing.get(rule);
                String summary = wanted.get(rule);
                if (summary != null && current == null) {
                    Alert a = new Alert(rule, summary, since(rule, now));
                    firing.put(rule, a);
                    changes.add(new Change(a, true, now));
                } else if (summary != null) {
                    firing.put(rule, new Alert(rule, summary, current.since())); // fresh numbers, same start
                } else if (current != null) {
                    firing.remove(rule);
                    changes.add(new Change(current, false, now));
                }
            }
        }
        return changes;
    }

    private Instant since(Rule rule, Instant now) {
        return switch (rule) {
            case SLOT_INACTIVE -> inactiveSince;
            case NO_LEADER -> noLeaderSince;
            default -> now;
        };
    }

    private String lagSummary(long lag, long threshold) {
        return "slot " + slot + ": " + lag + " bytes of WAL not yet confirmed (threshold " + Units.formatSize(threshold) + ")";
    }

    /** The alerts firing now, in rule order. */
    public synchronized List<Alert> firing() {
        return List.copyOf(firing.values());
    }

    public synchronized boolean isFiring(Rule rule) {
        return firing.containsKey(rule);
    }
}
