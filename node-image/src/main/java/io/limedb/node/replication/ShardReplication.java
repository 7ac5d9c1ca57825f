package io.limedb.node.replication;

import io.limedb.api.members.RoleWire;
import io.limedb.api.v1.LogRecord;
import io.limedb.api.v1.ReplicaProgress;
import io.limedb.api.v1.StatusResponse;
import io.limedb.core.topology.ReplicationMode;
import io.limedb.core.topology.Role;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.storage.KeyValueStore;
import io.limedb.node.storage.KeyValueStore.Mutation;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard member's replication state: its role and epoch, the log, the primary side (replica
 * sessions, what is committed, the read lease) and the replica side (following a primary). Every
 * write of the shard goes through {@link #write}; every answer waits for {@link #awaitCommit} of what
 * it saw.
 *
 * <p>Invariants kept here, all under this object's lock: the epoch is persisted before it is acted
 * on; a record is stamped with the epoch in which its writer is primary, decided together with the
 * role check; a member fenced at a higher epoch applies and acknowledges nothing of a lower one; a
 * primary that learns of a higher epoch stops acknowledging at once. In sync mode a write is
 * acknowledged only once minInSync-1 replicas have applied it (refused up front when fewer are in
 * sync), reads are served only under a lease that replicas renew, and a new primary waits out its
 * predecessor's lease before it serves anything.
 */
public final class ShardReplication implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardReplication.class);

    private final String nodeId;
    private final KeyValueStore store;
    private final ReplicationSettings settings;
    private final ReplicationLog log;
    private final PrimarySessions sessions;
    private final ScheduledExecutorService timer;
    private final TreeMap<Long, List<Waiter>> waiting = new TreeMap<>();

    private volatile Role role;

    /**
     * Only a member that takes the reads (primary, standalone) keeps the values it writes in the
     * store's value cache; a replica's writes just drop their keys from it, so that following costs
     * no cache upkeep and no memory. Reads a replica serves (coordinators with read.from=replica)
     * fill its cache as they miss; a promoted replica's cache fills from its first reads.
     */
    private void setRole(Role r) {
        role = r;
        store.keepWrittenValues(r == Role.PRIMARY || r == Role.STANDALONE);
    }
    private volatile String primaryAddress = "";
    private volatile long commitSeq;
    private volatile long discarded;
    // Primary: the seq of the empty record that opened its epoch; commit never stops short of it, so
    // an earlier epoch's tail is committed only together with a record of this epoch.
    private volatile long epochStartSeq;
    // Primary: monotonic instants (System.nanoTime) from which it may serve, and until which its lease runs.
    private volatile long servingFromNanos;
    private volatile long leaseUntilNanos;
    private Follower follower;
    private CompletableFuture<Void> steppedDown; // for whenNotPrimary(); completed by the next step-down

    private record Waiter(CompletableFuture<Void> future, long sinceNanos) {}

    // Uncommitted writes by storage key: an answer that read or wrote a key waits for its commit.
    private final ConcurrentHashMap<ByteBuffer, Long> pending = new ConcurrentHashMap<>();
    private final ArrayDeque<PendingGroup> pendingOrder = new ArrayDeque<>();

    private record PendingGroup(long seq, List<ByteBuffer> keys) {}

    public ShardReplication(String nodeId, KeyValueStore store, ReplicationSettings settings) {
        this.nodeId = nodeId;
        this.store = store;
        this.settings = settings;
        this.log = new ReplicationLog(store);
        setRole(settings.mode() == ReplicationMode.NONE ? Role.STANDALONE : Role.UNKNOWN);
        this.commitSeq = log.lastSeq();
        this.sessions = new PrimarySessions(this, log, settings);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "replication-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, 100, 100, TimeUnit.MILLISECONDS);
        if (role != Role.STANDALONE) {
            LOG.info("{}: {} replication, epoch {}, log at seq {} (epoch {}), storage {}{}; waiting to be promoted or to follow",
                    nodeId, settings.mode().name().toLowerCase(Locale.ROOT), log.epoch(), log.lastSeq(), log.lastEpoch(),
                    log.storageId(), log.caughtUp() ? "" : " (new: not caught up yet)");
        }
    }

    public String nodeId() {
        return nodeId;
    }

    public Role role() {
        return role;
    }

    public ReplicationLog log() {
        return log;
    }

    public KeyValueStore store() {
        return store;
    }

    public ReplicationSettings settings() {
        return settings;
    }

    // ---- the write path ----

    /**
     * Refuses a batch this node must not serve (nothing of it runs: not applied); learns a higher
     * epoch from it. A replicated shard requires the sender's epoch (0 means "unknown" and is refused).
     */
    public void checkBatch(long requestEpoch, boolean replicaRead, boolean hasWrites, boolean hasReads) {
        if (role == Role.STANDALONE) return;
        if (replicaRead && !hasWrites) return; // may be stale by design: no epoch needed
        long mine = log.epoch();
        if (requestEpoch < mine) {
            throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " is at epoch " + mine
                    + ", the request was routed by epoch " + requestEpoch + "; refresh the topology");
        }
        if (requestEpoch > mine) observeEpoch(requestEpoch, "a request");
        // Plain reads need the lease; writes (read-modify-write included) need acknowledgements,
        // which a deposed primary cannot get.
        checkServing(hasReads);
    }

    /** For calls that carry no epoch (the Shard service's unary RPCs): role and lease only. */
    public void checkDirect(boolean hasReads) {
        if (role == Role.STANDALONE) return;
        checkServing(hasReads);
    }

    private void checkServing(boolean reads) {
        if (role != Role.PRIMARY) {
            throw new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " is not the primary (role "
                    + role.name().toLowerCase(Locale.ROOT) + ", epoch " + log.epoch()
                    + (primaryAddress.isEmpty() ? "" : ", following " + primaryAddress) + ")");
        }
        long now = System.nanoTime();
        if (now - servingFromNanos < 0) {
            throw new LimeException(ErrorCode.NO_LEASE, nodeId + " became primary at epoch " + log.epoch()
                    + " and waits " + TimeUnit.NANOSECONDS.toMillis(servingFromNanos - now)
                    + " ms more for its predecessor's read lease to run out; retry");
        }
        if (reads && settings.acksNeeded() > 0 && now - leaseUntilNanos >= 0) {
            throw new LimeException(ErrorCode.NO_LEASE, nodeId + ": read lease expired (no acknowledgement from "
                    + settings.acksNeeded() + " replica(s) within " + settings.leaseMs() + " ms); not serving; retry");
        }
    }

    /** Applies a write group (with its log record when replicated); returns its seq (0 standalone). */
    public long write(List<Mutation> data) {
        return write(data, true);
    }

    /**
     * Writes data being moved into this shard (a range it does not own yet), replicated like any
     * write; answers nothing to clients, so it skips the ownership check. Returns its seq.
     */
    public long writeMoved(List<Mutation> data) {
        requireReplicated();
        return write(data, false);
    }

    private long write(List<Mutation> data, boolean owned) {
        if (role == Role.STANDALONE) {
            store.write(data);
            return 0;
        }
        long seq;
        synchronized (this) { // the role check and the record's epoch are one decision
            checkServing(false);
            if (owned) checkOwned(data); // with the append: a write can never land after the record that gave its range away
            int in = sessions.inSyncCount();
            if (in < settings.acksNeeded()) {
                throw new LimeException(ErrorCode.NOT_ENOUGH_REPLICAS, nodeId + ": " + in
                        + " replica(s) in sync, sync mode needs " + settings.acksNeeded()
                        + " (min.in.sync=" + settings.minInSync() + "); write refused, nothing was written");
            }
            seq = log.lastSeq() + 1;
            if (settings.acksNeeded() > 0) registerPending(seq, keysOf(data)); // before the data is readable
            try {
                log.append(log.epoch(), data);
            } catch (RuntimeException e) {
                throw new LimeException(ErrorCode.OUTCOME_UNKNOWN, nodeId + ": the write failed in storage and may or "
                        + "may not have been applied: " + e.getMessage());
            }
        }
        sessions.written();
        if (settings.acksNeeded() == 0) advanceCommit(seq);
        return seq;
    }

    /** Refuses (MOVED, nothing written) a write to a key whose ring range this shard does not own. */
    private void checkOwned(List<Mutation> data) {
        var owned = log.owned();
        if (owned == null) return;
        for (Mutation m : data) {
            if (m.space() == io.limedb.node.storage.KeyValueStore.Space.DATA && !m.range()
                    && !owned.owns(io.limedb.node.storage.StorageKeys.position(m.key()))) {
                throw moved(owned);
            }
        }
    }

    /** Refuses (NOT_PRIMARY) unless this member is the primary of exactly {@code epoch}. */
    public void requirePrimaryAt(long epoch) {
        if (role != Role.PRIMARY || epoch != log.epoch()) {
            throw new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " is not the primary at epoch " + epoch
                    + " (it is at epoch " + log.epoch() + " as " + role.name().toLowerCase(Locale.ROOT) + ")");
        }
    }

    /** The MOVED answer for a key outside what this shard owns. */
    public LimeException moved(io.limedb.node.reshard.Owned owned) {
        return new LimeException(ErrorCode.MOVED, nodeId + " does not own this key at ring version "
                + owned.ringVersion() + " (it moved to another shard); refresh the topology and send it again");
    }

    /**
     * Records (a log record, replicated like any write) that this shard owns {@code ownership} from now
     * on and drops the data of {@code drop}; answers once that is committed, with the log position.
     * A version below the one held is refused; the same version again changes nothing, unless it drops.
     */
    public long setOwnership(long epoch, io.limedb.api.v1.RangeOwnership ownership, List<io.limedb.api.v1.Range> drop) {
        long seq;
        synchronized (this) {
            requireReplicated();
            if (epoch < log.epoch()) {
                throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " is at epoch " + log.epoch()
                        + ", the ownership change was sent for epoch " + epoch);
            }
            if (epoch > log.epoch()) observeEpoch(epoch, "an ownership change");
            checkServing(false);
            var held = log.owned();
            var next = io.limedb.node.reshard.Owned.fromProto(ownership);
            if (held != null && next.ringVersion() < held.ringVersion()) {
                throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " owns ranges at ring version "
                        + held.ringVersion() + ", above the " + next.ringVersion() + " sent");
            }
            var dropped = io.limedb.core.ring.RangeSet.of(io.limedb.node.reshard.Owned.fromProto(drop));
            if (!dropped.isEmpty() && !dropped.minus(next.ranges()).equals(dropped)) {
                throw new LimeException(ErrorCode.INVALID_ARGUMENT, nodeId + ": refusing to drop ranges it owns");
            }
            boolean same = held != null && held.equals(next);
            if (same && drop.isEmpty()) return log.lastSeq();
            seq = log.appendRanges(log.epoch(), same ? null : ownership, drop);
        }
        sessions.wake();
        if (settings.acksNeeded() == 0) advanceCommit(seq);
        try {
            awaitCommit(seq).get(settings.ackTimeoutMs() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LimeException(ErrorCode.OUTCOME_UNKNOWN, "interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw LimeException.of(e.getCause() == null ? e : e.getCause());
        }
        return seq;
    }

    private static List<ByteBuffer> keysOf(List<Mutation> data) {
        var keys = new ArrayList<ByteBuffer>(data.size());
        for (Mutation m : data) keys.add(ByteBuffer.wrap(m.key()));
        return keys;
    }

    private void registerPending(long seq, List<ByteBuffer> keys) {
        for (var k : keys) pending.put(k, seq);
        synchronized (pendingOrder) {
            pendingOrder.add(new PendingGroup(seq, keys));
        }
    }

    /** True when some write is not yet committed (answers may have to wait). */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /** The seq an answer that read or wrote this storage key must wait for (0: nothing uncommitted). */
    public long pendingSeq(byte[] storageKey) {
        if (role == Role.STANDALONE) return 0;
        Long s = pending.get(ByteBuffer.wrap(storageKey));
        return s == null ? 0 : s;
    }

    /** The seq an answer that saw everything must wait for: everything written so far. */
    public long visibleSeq() {
        return role == Role.STANDALONE ? 0 : log.lastSeq();
    }

    /** Completes when seq is committed; fails (outcome unknown) if this node stops being primary first. */
    public CompletableFuture<Void> awaitCommit(long seq) {
        if (seq <= commitSeq || role == Role.STANDALONE) return CompletableFuture.completedFuture(null);
        var f = new CompletableFuture<Void>();
        synchronized (waiting) {
            if (seq <= commitSeq) return CompletableFuture.completedFuture(null);
            if (role != Role.PRIMARY) {
                f.completeExceptionally(new LimeException(ErrorCode.OUTCOME_UNKNOWN, nodeId
                        + " stopped being primary before the write was committed; it may or may not have been applied"));
                return f;
            }
            waiting.computeIfAbsent(seq, k -> new ArrayList<>()).add(new Waiter(f, System.nanoTime()));
        }
        return f;
    }

    /** Replicas acknowledged up to seq: commit it (never short of this epoch's first record). */
    void acknowledged(long seq) {
        if (seq < epochStartSeq || role != Role.PRIMARY) return;
        advanceCommit(seq);
    }

    private void advanceCommit(long seq) {
        var done = new ArrayList<Waiter>();
        synchronized (waiting) {
            if (seq <= commitSeq) return;
            commitSeq = seq;
            var head = waiting.headMap(seq, true);
            head.values().forEach(done::addAll);
            head.clear();
        }
        synchronized (pendingOrder) {
            while (!pendingOrder.isEmpty() && pendingOrder.peek().seq() <= seq) {
                var g = pendingOrder.poll();
                for (var k : g.keys()) pending.remove(k, g.seq());
            }
        }
        done.forEach(w -> w.future().complete(null));
    }

    /** Replicas renewed the lease with a stamp (this node's nanoTime when it sent what they acknowledged). */
    void renewLease(long stamp) {
        long until = stamp + TimeUnit.MILLISECONDS.toNanos(settings.leaseMs());
        if (until - leaseUntilNanos > 0) leaseUntilNanos = until;
    }

    private void failWaiting(LimeException e, long olderThanNanos) {
        var failed = new ArrayList<Waiter>();
        synchronized (waiting) {
            var it = waiting.entrySet().iterator();
            while (it.hasNext()) {
                var entry = it.next();
                entry.getValue().removeIf(w -> {
                    if (w.sinceNanos() > olderThanNanos) return false;
                    failed.add(w);
                    return true;
                });
                if (entry.getValue().isEmpty()) it.remove();
            }
        }
        failed.forEach(w -> w.future().completeExceptionally(e));
    }

    private void tick() {
        try {
            if (role == Role.PRIMARY) {
                long cutoff = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(settings.ackTimeoutMs());
                failWaiting(new LimeException(ErrorCode.OUTCOME_UNKNOWN, nodeId + ": write not acknowledged by "
                        + settings.acksNeeded() + " replica(s) within " + settings.ackTimeoutMs()
                        + " ms; it may or may not have been applied"), cutoff);
                sessions.heartbeat();
            }
            if (role != Role.STANDALONE) log.trim(settings.retainRecords());
        } catch (RuntimeException e) {
            LOG.warn("{}: replication timer: {}", nodeId, e.toString());
        }
    }

    // ---- roles ----

    /**
     * Raise the epoch (persisted first) and stop acting for any lower one: a primary steps down, a
     * replica stops following. Idempotent; a member already at or past the epoch is left as it is.
     */
    public synchronized StatusResponse fence(long epoch) {
        requireReplicated();
        if (epoch > log.epoch()) {
            log.raiseEpoch(epoch);
            stepDownIfPrimary("fenced at epoch " + epoch);
            stopFollowing();
            setRole(Role.UNKNOWN);
            primaryAddress = "";
            LOG.warn("{}: fenced at epoch {} (log at seq {} of epoch {})", nodeId, epoch, log.lastSeq(), log.lastEpoch());
        }
        return status();
    }

    /**
     * Become primary at epoch (persisted first). Allowed above this member's epoch, or at it while the
     * member is fenced there (neither primary nor following); idempotent for the primary of that epoch.
     */
    public synchronized StatusResponse promote(long epoch) {
        requireReplicated();
        if (role == Role.PRIMARY && epoch == log.epoch()) return status();
        if (epoch < log.epoch() || (epoch == log.epoch() && role != Role.UNKNOWN)) {
            throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " cannot be promoted at epoch " + epoch
                    + ": it is at epoch " + log.epoch() + " as " + role.name().toLowerCase(Locale.ROOT));
        }
        log.raiseEpoch(epoch);
        stopFollowing();
        if (role == Role.PRIMARY) sessions.closeAll(); // replicas of the lower epoch must greet again
        primaryAddress = "";
        long committed = commitSeq;
        // Its log past the commit point may or may not have been acknowledged: nobody reads it until
        // it commits, which happens with the empty record that opens this epoch.
        var tail = new ArrayList<ByteBuffer>();
        for (long s = committed + 1; s <= log.lastSeq(); ) {
            var records = log.read(s, 4096, 64L << 20);
            if (records.isEmpty()) break;
            for (LogRecord r : records) {
                r.getMutationsList().forEach(m -> tail.add(ByteBuffer.wrap(m.getKey().toByteArray())));
                s = r.getSeq() + 1;
            }
        }
        epochStartSeq = log.append(epoch, List.of());
        if (settings.acksNeeded() > 0 && !tail.isEmpty()) registerPending(epochStartSeq, tail);
        leaseUntilNanos = System.nanoTime();
        servingFromNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.leaseWaitMs());
        log.markCaughtUp();
        setRole(Role.PRIMARY);
        if (settings.acksNeeded() == 0) advanceCommit(log.lastSeq());
        LOG.info("{}: promoted to primary at epoch {} (log at seq {}, committed {}, {} uncommitted key(s) held back); "
                + "serving in {} ms", nodeId, epoch, log.lastSeq(), committed, tail.size(), settings.leaseWaitMs());
        return status();
    }

    /** Become a replica of primary at epoch (persisted first); a primary steps down at once. */
    public synchronized StatusResponse follow(String primary, long epoch) {
        requireReplicated();
        if (epoch < log.epoch() || (epoch == log.epoch() && role == Role.PRIMARY)) {
            throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " cannot follow " + primary + " at epoch " + epoch
                    + ": it is at epoch " + log.epoch() + (role == Role.PRIMARY ? " as primary" : ""));
        }
        if (role == Role.REPLICA && primary.equals(primaryAddress) && epoch == log.epoch()) return status();
        log.raiseEpoch(epoch);
        stepDownIfPrimary("told to follow " + primary + " at epoch " + epoch);
        stopFollowing();
        setRole(Role.REPLICA);
        primaryAddress = primary;
        follower = new Follower(this, primary, epoch);
        follower.start();
        LOG.info("{}: following {} at epoch {} (log at seq {})", nodeId, primary, epoch, log.lastSeq());
        return status();
    }

    /** Completes once this member is not the primary (at once if it is not). */
    public synchronized CompletableFuture<Void> whenNotPrimary() {
        if (role != Role.PRIMARY) return CompletableFuture.completedFuture(null);
        if (steppedDown == null) steppedDown = new CompletableFuture<>();
        return steppedDown;
    }

    /** A higher epoch seen anywhere: persist it; a primary stops acknowledging and waits to be told. */
    public synchronized void observeEpoch(long epoch, String from) {
        if (role == Role.STANDALONE || epoch <= log.epoch()) return;
        log.raiseEpoch(epoch);
        if (role == Role.PRIMARY) {
            stepDownIfPrimary("saw epoch " + epoch + " from " + from);
            setRole(Role.UNKNOWN);
        } else if (role == Role.REPLICA) {
            // Its follower was for a lower epoch and stops; not a replica until told whom to follow.
            stopFollowing();
            setRole(Role.UNKNOWN);
            primaryAddress = "";
        }
    }

    /**
     * The follower's apply: only while it still follows at this member's epoch (a fence in between
     * makes it refuse). Returns false when refused.
     */
    synchronized boolean applyAsFollower(Follower f, List<LogRecord> records) {
        if (follower != f || role != Role.REPLICA || f.epoch() != log.epoch()) return false;
        log.applyReplicated(records);
        return true;
    }

    /** The follower's truncation of a divergent tail, under the same condition as its apply. */
    synchronized boolean truncateAsFollower(Follower f, long seq, List<Mutation> repaired) {
        if (!stillFollowing(f)) return false;
        log.truncateAfter(seq, repaired);
        return true;
    }

    /** Whether f still follows at this member's epoch (it may acknowledge and renew leases). */
    boolean stillFollowing(Follower f) {
        return follower == f && role == Role.REPLICA && f.epoch() == log.epoch();
    }

    private void stepDownIfPrimary(String why) {
        if (role != Role.PRIMARY) return;
        setRole(Role.UNKNOWN);
        leaseUntilNanos = System.nanoTime();
        sessions.closeAll();
        failWaiting(new LimeException(ErrorCode.OUTCOME_UNKNOWN, nodeId + " stepped down (" + why
                + "); the write may or may not have been applied"), Long.MAX_VALUE);
        synchronized (pendingOrder) {
            pendingOrder.clear();
            pending.clear();
        }
        LOG.warn("{}: stepped down as primary: {}", nodeId, why);
        if (steppedDown != null) {
            var waiting = steppedDown; // completed off this lock: its waiters answer HTTP requests
            steppedDown = null;
            CompletableFuture.runAsync(() -> waiting.complete(null));
        }
    }

    private void stopFollowing() {
        if (follower != null) {
            follower.stop();
            follower = null;
        }
    }

    private void requireReplicated() {
        if (role == Role.STANDALONE) {
            throw new LimeException(ErrorCode.INVALID_ARGUMENT, nodeId + " runs with replication.mode=none");
        }
    }

    void recordDiscarded(int records) {
        discarded += records;
    }

    PrimarySessions sessions() {
        return sessions;
    }

    long commitSeq() {
        return commitSeq;
    }

    void replicaCommit(long primaryCommit) {
        // On a replica, commit is what the primary said, capped by what we hold.
        commitSeq = Math.max(commitSeq, Math.min(primaryCommit, log.lastSeq()));
    }

    public StatusResponse status() {
        long now = System.nanoTime();
        var b = StatusResponse.newBuilder().setNodeId(nodeId).setRole(RoleWire.toWire(role)).setEpoch(log.epoch())
                .setLastSeq(log.lastSeq()).setLastEpoch(log.lastEpoch()).setCommitSeq(commitSeq)
                .setPrimaryAddress(primaryAddress).setPid(ProcessHandle.current().pid())
                .setDiscardedRecords(discarded).setStorageId(log.storageId()).setCaughtUp(log.caughtUp())
                .setReplicationMode(settings.mode().name().toLowerCase(Locale.ROOT));
        var owned = log.owned();
        if (owned != null) b.setRingVersion(owned.ringVersion());
        if (role == Role.PRIMARY) {
            sessions.progress().forEach(p -> b.addReplicas(p));
            b.setInSyncReplicas(sessions.inSyncCount());
            b.setServing(now - servingFromNanos >= 0);
            if (settings.acksNeeded() > 0) b.setLeaseRemainingMs(Math.max(0, TimeUnit.NANOSECONDS.toMillis(leaseUntilNanos - now)));
        }
        Follower f = follower;
        if (f != null) {
            b.setConnected(f.connected()).setLagRecords(f.lagRecords()).setLagMs(f.lagMs());
        }
        return b.build();
    }

    @Override
    public synchronized void close() {
        timer.shutdownNow();
        stopFollowing();
        sessions.closeAll();
        failWaiting(new LimeException(ErrorCode.OUTCOME_UNKNOWN, nodeId
                + " is shutting down; the write may or may not have been applied"), Long.MAX_VALUE);
    }
}
