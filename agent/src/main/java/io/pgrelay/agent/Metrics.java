package io.pgrelay.agent;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.pipeline.StreamStats;

import java.util.HashSet;
import java.util.Set;

/**
 * The agent's Prometheus metrics, named as DESIGN.md lists them, in base units. Every agent,
 * leader or standby, exposes every metric; slot gauges come from the slot watcher.
 */
final class Metrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Agent agent;
    private final Set<String> registeredTables = new HashSet<>();

    Metrics(Agent agent) {
        this.agent = agent;
        registry.config().commonTags("cluster", agent.config().cluster());
        Gauge.builder("pgrelay_leader", agent, a -> a.role() == Agent.AgentRole.LEADER ? 1 : 0)
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
        StreamStats stats = agent.stats();
        FunctionCounter.builder("pgrelay_transactions_total", stats, StreamStats::transactions)
                .description("PostgreSQL transactions read").register(registry);
    }

    private static double orNaN(Number n) {
        return n == null ? Double.NaN : n.doubleValue();
    }

    String scrape() {
        registerNewTables();
        return registry.scrape();
    }

    /** Per-table counters appear once a table's first event was seen. */
    private synchronized void registerNewTables() {
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
