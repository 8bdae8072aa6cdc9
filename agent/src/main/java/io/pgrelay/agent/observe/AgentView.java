package io.pgrelay.agent.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.pgrelay.agent.core.Position;
import io.pgrelay.agent.event.Op;
import io.pgrelay.agent.http.AdminServer;
import io.pgrelay.agent.http.AgentStatus;
import io.pgrelay.agent.slot.SlotCheck;
import io.pgrelay.agent.snapshot.SnapshotState;
import io.pgrelay.agent.postgres.FailoverSlots;
import io.pgrelay.agent.pipeline.StreamStats;
import io.pgrelay.coordination.LeaderElection;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The agent as its HTTP API shows it. Reads only; holds no state of its own. */
public final class AgentView implements AdminServer.AgentView {

    private final AgentState agent;
    private final Metrics metrics;

    public AgentView(AgentState agent) {
        this.agent = agent;
        this.metrics = new Metrics(agent);
    }

    @Override
    public AgentStatus status() {
        var config = agent.config();
        LeaderElection election = agent.election();
        SlotWatcher.SlotSnapshot slot = agent.slot();
        boolean leading = agent.role() == AgentState.AgentRole.LEADER;
        Position committed = agent.progress().committed();
        return new AgentStatus(
                config.agent().id(),
                config.cluster(),
                agent.role().name().toLowerCase(),
                election == null ? null : election.leader().orElse(null),
                election == null || election.epoch() <= 0 ? null : election.epoch(),
                config.coordination().mode().name().toLowerCase(),
                new AgentStatus.Slot(config.postgres().slot(),
                        slot.exists() ? slot.active() : null,
                        slot.activePid(),
                        slot.confirmedFlushLsn() == null ? null : slot.confirmedFlushLsn().toString(),
                        slot.restartLsn() == null ? null : slot.restartLsn().toString(),
                        slot.walStatus(),
                        slot.retainedBytes(),
                        missing(slot),
                        agent.slotRefusal().map(SlotCheck.Verdict::message).orElse(null),
                        failover()),
                new AgentStatus.Lag(slot.lagBytes(), slot.lagSeconds()),
                new AgentStatus.Positions(
                        leading ? agent.progress().received().toString() : null,
                        leading ? agent.progress().flushed().toString()
                                : slot.confirmedFlushLsn() == null ? null : slot.confirmedFlushLsn().toString(),
                        leading && committed != Position.NONE ? committed.toString() : null),
                alerts(),
                AgentVersion.current(),
                agent.uptimeSeconds(),
                config.agent().url(),
                snapshot(leading));
    }

    private Boolean missing(SlotWatcher.SlotSnapshot slot) {
        var refusal = agent.slotRefusal();
        if (refusal.isPresent()) {
            return refusal.get().problem() != SlotCheck.Problem.LOST;
        }
        return slot.reachable() ? !slot.exists() : null;
    }

    private AgentStatus.Failover failover() {
        FailoverSlots.Readiness r = agent.failover();
        return r == null ? null : new AgentStatus.Failover(r.ready(), r.problemTexts(), r.syncedOn());
    }

    /** The leader's view of the snapshot; null on a standby, and when none ran in this agent's terms. */
    private AgentStatus.Snapshot snapshot(boolean leading) {
        SnapshotState state = agent.stats().snapshot().state();
        if (!leading || state.tables().isEmpty()) {
            return null;
        }
        List<AgentStatus.SnapshotTable> tables = state.tables().stream()
                .map(t -> new AgentStatus.SnapshotTable(t.table().toString(), t.status().name().toLowerCase(),
                        t.rowsSent(), t.estimate(), t.note()))
                .toList();
        return new AgentStatus.Snapshot(state.active(), tables);
    }

    private List<AgentStatus.Alert> alerts() {
        return agent.alerts().firing().stream()
                .map(a -> new AgentStatus.Alert(a.rule().alertName, a.rule().severity, a.summary(), a.since().toString()))
                .toList();
    }

    @Override
    public String setLogLevel(String logger, String level) {
        Level parsed = Level.toLevel(level, null);
        if (parsed == null || !parsed.levelStr.equalsIgnoreCase(level)) {
            throw new IllegalArgumentException("unknown level '" + level + "'; use trace, debug, info, warn, error or off");
        }
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger target = context.getLogger(logger);
        target.setLevel(parsed);
        return target.getName();
    }

    @Override
    public boolean ready() {
        return switch (agent.role()) {
            case LEADER -> agent.streaming();
            // watching the slot, and able to take over at once: a rolling restart that waits for
            // readiness then never takes the leader down while the only standbys are still cold
            case STANDBY -> agent.slot().reachable() && agent.readyToLead();
            default -> false;
        };
    }

    @Override
    public Object stats() {
        StreamStats s = agent.stats();
        Map<String, Object> tables = new LinkedHashMap<>();
        s.tables().forEach((table, counters) -> {
            Map<String, Object> ops = new LinkedHashMap<>();
            for (Op op : Op.values()) {
                ops.put(op.jsonName(), counters.events(op));
            }
            ops.put("bytes", counters.bytes());
            tables.put(table, ops);
        });
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("agent", agent.config().agent().id());
        body.put("events", s.events());
        body.put("transactions", s.transactions());
        body.put("kafkaCommits", s.kafkaCommits());
        body.put("skippedAlreadyWritten", s.skippedAlreadyWritten());
        body.put("skippedOversized", s.skippedOversized());
        body.put("errors", s.errors());
        body.put("tables", tables);
        return body;
    }

    @Override
    public void adminRequest(String action, int status) {
        metrics.adminRequest(action, status);
    }

    @Override
    public String metrics() {
        return metrics.scrape();
    }

    @Override
    public List<String> snapshot(List<String> tables) throws Exception {
        if (agent.role() != AgentState.AgentRole.LEADER) {
            LeaderElection election = agent.election();
            String leader = election == null ? null : election.leader().orElse(null);
            throw new IllegalStateException("agent " + agent.config().agent().id() + " is not the leader"
                    + (leader == null ? "" : "; ask " + leader));
        }
        return agent.snapshotRequests().request(tables).stream().map(Object::toString).toList();
    }

    @Override
    public void handover(Optional<String> to) throws Exception {
        LeaderElection election = agent.election();
        if (election == null) {
            throw new IllegalStateException("agent " + agent.config().agent().id() + " is still starting");
        }
        election.handover(to);
    }
}
