package io.pgrelay.coordination;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** The election's {@link Term}. Revocation may come from any thread; the lead thread owns the rest. */
final class LeaderTerm implements Term {

    static final long NO_EPOCH = -1;

    private final LeaderElection election;
    private final Thread leadThread;
    private final CompletableFuture<Void> revoked = new CompletableFuture<>();
    private volatile Revocation reason;
    private volatile long epoch;
    /** The walsender pid that held the slot when it was acquired; guarded by this. */
    private Integer walsenderPid;
    /** True while {@code lead} runs, so a late revoke never interrupts the thread's next job; guarded by this. */
    private boolean leading = true;

    private final boolean rightful;
    /** Set once the slot is held; see {@link SlotLease}. */
    private volatile SlotLease lease;

    LeaderTerm(LeaderElection election, Thread leadThread, boolean rightful) {
        this.election = election;
        this.leadThread = leadThread;
        this.epoch = NO_EPOCH;
        this.rightful = rightful;
    }

    @Override
    public boolean mayFenceBeforeSlot() {
        return rightful;
    }

    @Override
    public long slotAcquired() throws Exception {
        if (!isValid()) {
            throw new IllegalStateException("term already revoked: " + reason);
        }
        synchronized (this) {
            if (walsenderPid != null) {
                return epoch;
            }
        }
        long assigned;
        Integer pid;
        try (Connection c = election.config().postgres().open()) {   // one connection: this is a takeover's critical path
            assigned = election.assignEpoch(this, c);
            pid = SlotQueries.holderPid(c, election.config().slot());
        }
        synchronized (this) {
            epoch = assigned;
            walsenderPid = pid == null ? -1 : pid;
        }
        lease = new SlotLease(election.config().hangTimeout(), System.nanoTime());
        election.becameLeader(this);
        return assigned;
    }

    @Override
    public long epoch() {
        long e = epoch;
        if (e == NO_EPOCH) {
            throw new IllegalStateException("no epoch yet: call slotAcquired() once START_REPLICATION succeeded");
        }
        return e;
    }

    boolean hasEpoch() {
        return epoch != NO_EPOCH;
    }

    /** True once the leader reported {@link #slotAcquired()}. */
    synchronized boolean slotHeld() {
        return walsenderPid != null;
    }

    /** The ticker saw this term's walsender hold the slot, by a look that started at {@code startedNanos}. */
    void slotConfirmed(long startedNanos) {
        SlotLease l = lease;
        if (l != null) {
            l.confirm(startedNanos);
        }
    }

    /** The lease, once the slot is held; null before. */
    SlotLease lease() {
        return lease;
    }

    synchronized Integer walsenderPid() {
        return walsenderPid;
    }

    @Override
    public boolean isValid() {
        return !revoked.isDone();
    }

    @Override
    public CompletableFuture<Void> revoked() {
        return revoked;
    }

    @Override
    public Optional<Revocation> revocation() {
        return Optional.ofNullable(reason);
    }

    @Override
    public Optional<Integer> evictSlotHolder() throws SQLException {
        String slot = election.config().slot();
        try (Connection c = election.config().postgres().open()) {
            Integer pid = SlotQueries.holderPid(c, slot);
            if (pid == null) {
                return Optional.empty();
            }
            long e = epoch;
            // before the slot is held the term has no epoch yet: it won the election, not the slot
            SlotQueries.terminate(c, slot, pid, "agent " + election.config().agentId()
                    + (e == NO_EPOCH ? " won the election" : " leads (epoch " + e + ")") + " but a stale walsender still holds the slot");
            return Optional.of(pid);
        }
    }

    /** Revokes the term: completes {@link #revoked()} and interrupts {@code lead} if it still runs. */
    void revoke(Revocation.Reason kind, String why) {
        synchronized (this) {
            if (reason == null) {
                reason = new Revocation(kind, why);
            }
            if (leading && leadThread != Thread.currentThread()) {
                leadThread.interrupt();
            }
        }
        revoked.complete(null);
    }

    /** Called by the lead thread when {@code lead} has returned; clears a stray interrupt. */
    void ended() {
        synchronized (this) {
            leading = false;
            if (reason == null) {
                reason = new Revocation(Revocation.Reason.TERM_ENDED, "term ended");
            }
        }
        revoked.complete(null);
        Thread.interrupted();
    }
}
