package io.pgrelay.agent.observe;

import io.pgrelay.agent.alert.AlertRules;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.pipeline.StreamProgress;
import io.pgrelay.agent.pipeline.StreamStats;
import io.pgrelay.agent.postgres.FailoverSlots;
import io.pgrelay.agent.slot.SlotCheck;
import io.pgrelay.agent.snapshot.SnapshotRequests;
import io.pgrelay.coordination.LeaderElection;

import java.util.Optional;

/**
 * What the status API and the metrics read of a running agent. The agent implements it; nothing
 * here changes the agent. Each answer may be stale the moment it returns.
 */
public interface AgentState {

    /** The agent's role as the status API names it. */
    enum AgentRole { STARTING, STANDBY, LEADER, STOPPING }

    PgRelayConfig config();

    AgentRole role();

    /** Null before the election started. */
    LeaderElection election();

    StreamStats stats();

    StreamProgress progress();

    SlotWatcher.SlotSnapshot slot();

    /** Why this agent refuses to stream from the slot now, or empty. */
    Optional<SlotCheck.Verdict> slotRefusal();

    long slotRecreations();

    /** Whether the slot would survive a promotion of a standby; null while not known. */
    FailoverSlots.Readiness failover();

    /** A standby that could take over at once: its Kafka clients are prepared. */
    boolean readyToLead();

    boolean streaming();

    AlertRules alerts();

    long leadershipChanges();

    long uptimeSeconds();

    SnapshotRequests snapshotRequests();
}
