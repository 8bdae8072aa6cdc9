package io.pgrelay.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * ZooKeeper mode: Curator's {@link LeaderSelector} on {@code /pgrelay/<cluster>/leader}. On
 * getting the lock {@link Leader#lead} runs, and the epoch znode {@code /pgrelay/<cluster>/epoch}
 * is incremented by a versioned compare-and-set meanwhile; {@link Term#slotAcquired()} returns it. A SUSPENDED or LOST connection revokes the term
 * at once: the ZooKeeper client notices a lost server within two thirds of the session timeout,
 * before the server expires the session and lets another agent take the lock, so a leader that
 * stops promptly has stopped before the next one starts. Holding the lock is not holding the slot:
 * the leader evicts a stale walsender with {@link Term#evictSlotHolder()}.
 *
 * <p>A handover writes {@code /pgrelay/<cluster>/handover} ({@code to}, {@code untilMillis}). Every
 * agent watches that node: the named target gets ready ({@link Leader#handoverComing}), and
 * the others waiting in Curator's queue leave it and queue again, behind the target; the leader
 * keeps streaming until the target is next, so that the lock goes straight from it to the target. An agent other than the target that gets
 * the lock during the window all the same (it was not told in time) gives it back at once. The
 * window is judged by each agent's wall clock, so clocks must agree to well within the window.
 */
final class ZooKeeperElection extends LeaderElection {

    private static final Logger log = LoggerFactory.getLogger(ZooKeeperElection.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a handing-over leader waits for the target to come next in the lock's queue. */
    private static final Duration HANDOVER_ORDER_WAIT = Duration.ofSeconds(1);

    private final CuratorFramework client;
    private final LeaderSelector selector;
    private final CuratorCache handoverWatch;
    /** Guards {@link #inTakeLeadership}: a requeue must never interrupt a term. */
    private final Object queueLock = new Object();
    private boolean inTakeLeadership;
    /** How often this agent got the lock (led, or gave it back); for tests. */
    final java.util.concurrent.atomic.AtomicInteger locksTaken = new java.util.concurrent.atomic.AtomicInteger();
    /** Set by start once the lock's queue and the handover watch run; read by close, maybe on another thread. */
    private volatile boolean selecting;
    /** The epoch being assigned to the term that is starting; set before the term runs. */
    private volatile CompletableFuture<Long> pendingEpoch;

    ZooKeeperElection(ElectionConfig config, Leader leader) {
        this(config, leader, client(config));
    }

    /** With {@code zookeeperAuth}: SASL login, and every znode created owned by that user alone (see {@link ZooKeeperAuth}); with {@code zookeeperTls}: TLS. */
    private static CuratorFramework client(ElectionConfig config) {
        return ZooKeeperClients.build(config.zookeeperConnect(), config.sessionTimeout(), config.sessionTimeout(),
                config.zookeeperAuth(), config.zookeeperTls(), new ExponentialBackoffRetry(100, 10, 1000));
    }

    private ZooKeeperElection(ElectionConfig config, Leader leader, CuratorFramework client) {
        super(config, leader, new ZkMemberRegistry(client, config));
        this.client = client;
        this.selector = new LeaderSelector(client, config.zkRoot() + "/leader", new LockListener());
        selector.setId(config.agentId());
        selector.autoRequeue();
        this.handoverWatch = CuratorCache.build(client, config.zkRoot() + "/handover",
                CuratorCache.Options.SINGLE_NODE_CACHE);
        handoverWatch.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, after) -> onHandoverRecorded(after))
                .build());
    }

    @Override
    void prepare() throws InterruptedException {
        ZooKeeperClients.connect(client, config.zookeeperConnect(), config.zookeeperTls(), config.sessionTimeout().multipliedBy(2),
                "agent " + config.agentId() + ": ");
    }

    @Override
    void doStart() {
        handoverWatch.start();
        selector.start();
        selecting = true;
    }

    @Override
    void doClose() {
        if (selecting) {   // LeaderSelector.close() throws when it never started: ZooKeeper was not reached
            handoverWatch.close();
            selector.close();
        }
        registry.close();
        client.close();
    }

    /** The Curator client, for tests that expire its session. */
    CuratorFramework client() {
        return client;
    }

    private final class LockListener extends LeaderSelectorListenerAdapter {
        @Override
        public void takeLeadership(CuratorFramework c) throws Exception {
            synchronized (queueLock) {
                inTakeLeadership = true;
            }
            locksTaken.incrementAndGet();
            try {
                lockTaken();
            } finally {
                synchronized (queueLock) {
                    inTakeLeadership = false;
                }
            }
        }

        private void lockTaken() throws Exception {
            if (state.get() != State.STARTED) {
                return;
            }
            Optional<Handover> handover = readHandover();
            Optional<String> holdBackFor = holdBackReason(handover);
            if (holdBackFor.isPresent()) {
                giveBack(holdBackFor.get(), handover);
                return;
            }
            // The epoch's compare-and-set (a ZooKeeper write) runs while the leader takes the slot;
            // slotAcquired() waits for it. A term that never gets that far leaves a gap in the
            // epochs, which only have to grow.
            CompletableFuture<Long> epoch = new CompletableFuture<>();
            pendingEpoch = epoch;
            daemon(() -> {
                try {
                    epoch.complete(bumpEpoch());
                } catch (Throwable e) {
                    epoch.completeExceptionally(e);
                }
            }, "pgrelay-epoch-" + config.agentId()).start();
            if (!client.getZookeeperClient().isConnected()) {
                return;   // SUSPENDED/LOST may have come before a term existed to revoke
            }
            deleteHandover();
            runTerm(true);   // we hold the lock: the rightful leader
        }

        @Override
        public void stateChanged(CuratorFramework c, ConnectionState newState) {
            if (newState == ConnectionState.SUSPENDED || newState == ConnectionState.LOST) {
                LeaderTerm t = currentTerm();
                if (t != null && t.isValid()) {
                    log.warn("agent {}: ZooKeeper connection {}: revoking term (epoch {})", config.agentId(), newState,
                            t.hasEpoch() ? t.epoch() : -1);
                    t.revoke(Revocation.Reason.ZOOKEEPER_CONNECTION, "ZooKeeper connection " + newState);
                }
            }
            super.stateChanged(c, newState);   // throws CancelLeadershipException on SUSPENDED/LOST
        }
    }

    /**
     * A handover was recorded (or this agent started while one is recorded). The target gets
     * ready; any other agent that is only waiting in the lock's queue leaves it and queues again,
     * now behind the target, so the lock does not stop at it on the way. Runs on the cache's thread.
     */
    private void onHandoverRecorded(ChildData node) {
        Optional<Handover> h = Handover.parse(node.getData());
        if (h.isEmpty() || !h.get().pending() || h.get().to() == null || state.get() != State.STARTED) {
            return;
        }
        String to = h.get().to();
        if (config.agentId().equals(to)) {
            leader.handoverComing(config.handoverWindow());
            return;
        }
        synchronized (queueLock) {
            if (!inTakeLeadership) {
                leaveQueue(to);
            }
        }
    }

    /**
     * Deletes this agent's node in the lock's queue. Curator's waiting thread notices when its
     * predecessor goes, finds its own node gone and queues again (autoRequeue), now at the end.
     * ({@link LeaderSelector#interruptLeadership()} does not reach a participant that is only
     * waiting.) Were the lock ours by the time the node goes, {@link #holdBackReason} gives it back.
     */
    private void leaveQueue(String to) {
        String queue = config.zkRoot() + "/leader";
        try {
            for (String node : client.getChildren().forPath(queue)) {
                String path = queue + "/" + node;
                try {
                    if (config.agentId().equals(new String(client.getData().forPath(path), StandardCharsets.UTF_8))) {
                        log.debug("agent {}: a handover to {} is pending; queueing again behind it", config.agentId(), to);
                        client.delete().forPath(path);
                    }
                } catch (KeeperException.NoNodeException gone) {
                    // released or requeued meanwhile
                }
            }
        } catch (Exception e) {
            log.debug("agent {}: could not leave the lock's queue: {}", config.agentId(), e.toString());
        }
    }

    /** Why this agent must not lead now, if it must not. */
    private Optional<String> holdBackReason(Optional<Handover> h) {
        String to = h.map(Handover::to).orElse(null);
        boolean pending = h.isPresent() && h.get().pending();
        if (pending && config.agentId().equals(to)) {
            return Optional.empty();   // the named target ignores its own hold-back from an earlier handover
        }
        if (inLocalHoldBack()) {
            return Optional.of("it just handed over");
        }
        if (pending && to != null) {
            return Optional.of("a handover to " + to + " is pending");
        }
        return Optional.empty();
    }

    /** Returns the lock at once when the target is queued for it; otherwise after a short pause, to avoid churning. */
    private void giveBack(String why, Optional<Handover> h) throws Exception {
        log.debug("agent {} gives the lock back: {}", config.agentId(), why);
        String to = h.map(Handover::to).orElse(null);
        boolean targetQueued = queue().stream()
                .anyMatch(id -> id.equals(to) || (to == null && !id.equals(config.agentId())));
        if (!targetQueued) {
            Thread.sleep(config.handoverPoll().toMillis());
        }
    }

    private long bumpEpoch() throws Exception {
        String path = config.zkRoot() + "/epoch";
        while (true) {
            Stat stat = new Stat();
            try {
                byte[] data = client.getData().storingStatIn(stat).forPath(path);
                long next = Long.parseLong(new String(data, StandardCharsets.US_ASCII).trim()) + 1;
                client.setData().withVersion(stat.getVersion()).forPath(path, ascii(next));
                return next;
            } catch (KeeperException.NoNodeException e) {
                try {
                    client.create().creatingParentsIfNeeded().forPath(path, ascii(1));
                    return 1;
                } catch (KeeperException.NodeExistsException raced) {
                    // another agent created it first: read again
                }
            } catch (KeeperException.BadVersionException raced) {
                // another writer moved it: read again
            }
        }
    }

    @Override
    long assignEpoch(LeaderTerm t, java.sql.Connection c) throws Exception {
        try {
            long epoch = pendingEpoch.get(config.sessionTimeout().toMillis(), TimeUnit.MILLISECONDS);
            knownEpoch = Math.max(knownEpoch, epoch);
            return epoch;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    @Override
    void recordHandover(Optional<String> to, Duration window) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from", config.agentId());
        m.put("to", to.orElse(null));
        m.put("untilMillis", System.currentTimeMillis() + window.toMillis());
        byte[] data = JSON.writeValueAsBytes(m);
        String path = config.zkRoot() + "/handover";
        try {
            client.setData().forPath(path, data);
        } catch (KeeperException.NoNodeException e) {
            client.create().creatingParentsIfNeeded().forPath(path, data);
        }
    }

    /**
     * Waits until the named target is next in the lock's queue — the agents ahead of it requeue
     * when they see the handover record — or it is not queued at all, for at most
     * {@link #HANDOVER_ORDER_WAIT}. Then releasing passes the lock straight to it, instead of
     * through agents that would only give it back.
     */
    @Override
    void awaitHandoverOrder(Optional<String> to) throws Exception {
        if (to.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + HANDOVER_ORDER_WAIT.toNanos();
        while (true) {
            java.util.List<String> queue = queue();
            int at = queue.indexOf(to.get());
            if (at <= 1 || System.nanoTime() - deadline > 0) {
                log.debug("agent {}: {} is {} in the lock's queue {}", config.agentId(), to.get(),
                        at < 0 ? "not" : "at " + at, queue);
                return;
            }
            Thread.sleep(5);
        }
    }

    /** The agents in the lock's queue, the holder first. */
    java.util.List<String> queue() throws Exception {
        return selector.getParticipants().stream().map(Participant::getId).toList();
    }

    private Optional<Handover> readHandover() throws Exception {
        try {
            return Handover.parse(client.getData().forPath(config.zkRoot() + "/handover"));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    /** The handover record: {@code to} (null: any standby) and the end of its window. */
    private record Handover(String to, long untilMillis) {

        boolean pending() {
            return untilMillis > System.currentTimeMillis();
        }

        /** Empty when the record cannot be read: it then holds nobody back. */
        static Optional<Handover> parse(byte[] data) {
            try {
                Map<?, ?> m = JSON.readValue(data, Map.class);
                Object to = m.get("to");
                return m.get("untilMillis") instanceof Number until
                        ? Optional.of(new Handover(to == null ? null : to.toString(), until.longValue()))
                        : Optional.empty();
            } catch (java.io.IOException | RuntimeException e) {
                log.debug("unreadable handover record: {}", e.toString());
                return Optional.empty();
            }
        }
    }

    /**
     * Clears a finished handover in the background, off the takeover's path: operations of one
     * session reach the server in order, so a later handover of ours is never deleted by it, and a
     * failed delete (none pending) needs no answer.
     */
    private void deleteHandover() throws Exception {
        client.delete().inBackground().forPath(config.zkRoot() + "/handover");
    }

    @Override
    void refreshKnown() throws Exception {
        try {
            byte[] data = client.getData().forPath(config.zkRoot() + "/epoch");
            knownEpoch = Math.max(knownEpoch, Long.parseLong(new String(data, StandardCharsets.US_ASCII).trim()));
        } catch (KeeperException.NoNodeException e) {
            // no leader yet
        }
        Participant p = selector.getLeader();
        knownLeader = p.isLeader() && !p.getId().isEmpty() ? Optional.of(p.getId()) : Optional.empty();
        if (knownLeader.isPresent() && !knownLeader.get().equals(config.agentId()) && currentTerm() == null
                && state.get() == State.STARTED) {
            removeLockOfDeadLeader(knownLeader.get());
        }
    }

    /**
     * A standby's look, every poll interval, at the agent holding the lock: when it is gone (see
     * {@link DeadLeaderCheck}) its lock node is deleted, so that the next agent in the queue takes the
     * lock now instead of when ZooKeeper expires the dead agent's session. Only the holder's own node
     * (the first in the queue, carrying its id) is deleted, by version.
     */
    private void removeLockOfDeadLeader(String holder) throws Exception {
        String http;
        try (java.sql.Connection c = config.postgres().open()) {
            if (!DeadLeaderCheck.slotFree(c, config.slot())) {
                return;
            }
            http = registry.members().stream().filter(m -> m.id().equals(holder)).map(Member::http).findFirst().orElse(null);
            // the slot again after the connect: a leader that was only starting its term holds it by now
            if (!DeadLeaderCheck.refusesConnections(http) || !DeadLeaderCheck.slotFree(c, config.slot())) {
                return;
            }
        }
        String queue = config.zkRoot() + "/leader";
        java.util.List<String> nodes = new java.util.ArrayList<>(client.getChildren().forPath(queue));
        nodes.sort(java.util.Comparator.comparing(ZooKeeperElection::lockSequence));
        if (nodes.isEmpty()) {
            return;
        }
        String path = queue + "/" + nodes.get(0);
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            if (!holder.equals(new String(data, StandardCharsets.UTF_8))) {
                return;   // the lock moved meanwhile
            }
            client.delete().withVersion(stat.getVersion()).forPath(path);
            log.warn("agent {}: leader {} of cluster {} is gone (slot \"{}\" has no walsender, {} refuses connections);"
                    + " removed its lock node instead of waiting up to {} ms for its ZooKeeper session to expire",
                    config.agentId(), holder, config.cluster(), config.slot(), http, config.sessionTimeout().toMillis());
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            // released, expired or removed by another standby meanwhile
        }
    }

    /** Curator's lock nodes end in a sequence number ({@code _c_<uuid>-lock-0000000012}); the lowest holds the lock. */
    private static String lockSequence(String node) {
        int at = node.lastIndexOf('-');
        return at < 0 ? node : node.substring(at + 1);
    }

    private static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }
}
