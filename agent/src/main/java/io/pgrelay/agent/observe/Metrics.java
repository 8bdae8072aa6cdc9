package io.pgrelay.agent.observe;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgrelay.agent.alert.AlertRules;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.pipeline.StreamStats;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The agent's Prometheus metrics, named as DESIGN.md lists them, in base units. Every agent,
 * leader or standby, exposes every metric; slot gauges come from the slot watcher.
 */
public final class Metrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AgentState agent;
    private final Set<String> registeredTables = new HashSet<>();
    private final Set<String> registeredSnapshotTables = new HashSet<>();

    Metrics(AgentState agent) {
        this.agent = agent;
        registry.config().commonTags("cluster", agent.config().cluster());
        Gauge.builder("pgrelay_leader", agent, a -> a.role() == AgentState.AgentRole.LEADER ? 1 : 0)
                .tags(Tags.of("agent", agent.config().agent().id()))
                .description("1 while this agent leads").register(registry);
        Gauge.builder("pgrelay_slot_lag_bytes", agent, a -> orNaN(a.slot().lagBytes()))
                .baseUnit("bytes").description("WAL between the server's end and the slot's confirmed position").register(registry);
        Gauge.builder("pgrelay_replication_lag_seconds", agent, a -> orNaN(a.slot().lagSeconds()))
                .description("age of the oldest change not yet confirmed to the slot").register(registry);
        Gauge.builder("pgrelay_wal_retained_bytes", agent, a -> orNaN(a.slot().retainedBytes()))
                .baseUnit("bytes").description("WAL the server keeps for the slot").register(registry);
        Gauge.builder("pgrelay_slot_active", agent, a -> a.slot().exists() ? (a.slot().active() ? 1 : 0) : Double.NaN)
                .description("1 while a walsender holds the slot").register(registry);
        Gauge.builder("pgrelay_slot_missing", agent, a -> a.slotRefusal().isPresent() ? 1 : 0)
                .description("1 while the agents refuse to stream because the cluster's slot is missing, lost or created anew")
                .register(registry);
        FunctionCounter.builder("pgrelay_slot_recreated_total", agent, AgentState::slotRecreations)
                .description("slots this agent created anew after the cluster's was lost, re-snapshotting every table "
                        + "(snapshot.mode: when_needed)").register(registry);
        StreamStats stats = agent.stats();
        FunctionCounter.builder("pgrelay_transactions_total", stats, StreamStats::transactions)
                .description("PostgreSQL transactions read from the slot (committed transactions that touched a published table)").register(registry);
        FunctionCounter.builder("pgrelay_transactions_split_total", stats, StreamStats::transactionsSplit)
                .description("PostgreSQL transactions larger than kafka.maxTransactionBytes (or too long to stream) committed"
                        + " to Kafka in parts").register(registry);
        FunctionCounter.builder("pgrelay_leadership_changes_total", agent, AgentState::leadershipChanges)
                .description("times this agent saw the cluster's leader become a different agent (or the first one)").register(registry);
        FunctionCounter.builder("pgrelay_skipped_total", stats, StreamStats::skippedOversized)
                .tags("reason", "oversized")
                .description("change events not written to their topic (kafka.onOversized: skip); see the dead-letter topic").register(registry);
        FunctionCounter.builder("pgrelay_skipped_total", stats, StreamStats::skippedAlreadyWritten)
                .tags("reason", "already_in_kafka")
                .description("change events not written again because the checkpoint shows them in Kafka already").register(registry);
        for (AlertRules.Rule rule : AlertRules.Rule.values()) {
            Gauge.builder("pgrelay_alert", agent.alerts(), a -> a.isFiring(rule) ? 1 : 0)
                    .tags("name", rule.alertName, "severity", rule.severity)
                    .description("1 while the alert fires (docs/operations.md)").register(registry);
        }
        Timer kafkaSend = Timer.builder("pgrelay_kafka_send")
                .serviceLevelObjectives(buckets(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
                .description("duration of one Kafka transaction commit: flushing its records, writing the checkpoint, committing")
                .register(registry);
        Timer endToEnd = Timer.builder("pgrelay_end_to_end_latency")
                .serviceLevelObjectives(buckets(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900))
                .description("from a PostgreSQL transaction's commit (server clock) to the Kafka commit holding its events (agent clock)")
                .register(registry);
        stats.timings(new StreamStats.Timings() {
            @Override
            public void kafkaCommit(long nanos) {
                kafkaSend.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void endToEnd(long micros) {
                endToEnd.record(micros, TimeUnit.MICROSECONDS);
            }
        });
    }

    private static Duration[] buckets(double... seconds) {
        Duration[] out = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            out[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        }
        return out;
    }

    private static double orNaN(Number n) {
        return n == null ? Double.NaN : n.doubleValue();
    }

    /** {@code pgrelay_admin_requests_total{action, status}}: admin routes called, refused calls included. */
    void adminRequest(String action, int status) {
        io.micrometer.core.instrument.Counter.builder("pgrelay_admin_requests_total")
                .tags("action", action, "status", Integer.toString(status))
                .description("calls of the admin routes by action and HTTP status (401, 403 and 429 are refusals)")
                .register(registry).increment();
    }

    String scrape() {
        registerNewTables();
        return registry.scrape();
    }

    /** Per-table counters appear once a table's first event was seen; snapshot ones once it is in a snapshot. */
    private synchronized void registerNewTables() {
        var snapshot = agent.stats().snapshot();
        snapshot.state().tables().forEach(t -> snapshot.sent(t.table().toString(), 0));
        snapshot.rowsSent().forEach((table, rows) -> {
            if (registeredSnapshotTables.add(table)) {
                FunctionCounter.builder("pgrelay_snapshot_rows_total", rows, java.util.concurrent.atomic.AtomicLong::get)
                        .tags("table", table)
                        .description("snapshot rows this agent wrote to Kafka").register(registry);
                Gauge.builder("pgrelay_snapshot_rows_estimated", snapshot, s -> s.estimate(table))
                        .tags("table", table)
                        .description("rows of the table when its snapshot started (pg_class.reltuples); NaN when unknown")
                        .register(registry);
            }
        });
        agent.stats().tables().forEach((table, counters) -> {
            if (registeredTables.add(table)) {
                for (Op op : Op.values()) {
                    FunctionCounter.builder("pgrelay_events_total", counters, c -> c.events(op))
                            .tags("table", table, "op", op.jsonName())
                            .description("change events written to Kafka").register(registry);
                }
            }
        });
    }
}
