package io.limedb.node.replication;

import io.limedb.api.v1.MemberRole;
import io.limedb.api.v1.ReplicaProgress;
import io.limedb.api.v1.StatusResponse;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.storage.KeyValueStore;
import io.limedb.node.storage.KeyValueStore.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard member's replication state: its role and epoch, the log, the primary side (replica
 * sessions, what is committed) and the replica side (following a primary). Every write of the
 * shard goes through {@link #write}; every answer waits for {@link #awaitCommit} of what it saw.
 *
 * <p>Invariants kept here: the epoch is persisted before it is acted on; a node only writes as
 * primary; a primary that learns of a higher epoch stops acknowledging at once; in sync mode a write
 * is acknowledged only once minInSync-1 replicas have applied it, and refused up front when fewer
 * replicas are in sync.
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

    private volatile MemberRole role;
    private volatile String primaryAddress = "";
    private volatile long commitSeq;
    private volatile long discarded;
    private Follower follower;

    private record Waiter(CompletableFuture<Void> future, long sinceNanos) {}

    // Uncommitted writes by storage key: an answer that read or wrote a key waits for its commit.
    private final java.util.concurrent.ConcurrentHashMap<java.nio.ByteBuffer, Long> pending =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.ArrayDeque<PendingGroup> pendingOrder = new java.util.ArrayDeque<>();

    private record PendingGroup(long seq, List<java.nio.ByteBuffer> keys) {}

    public ShardReplication(String nodeId, KeyValueStore store, ReplicationSettings settings) {
        this.nodeId = nodeId;
        this.store = store;
        this.settings = settings;
        this.log = new ReplicationLog(store);
        this.role = settings.mode() == ReplicationSettings.Mode.NONE ? MemberRole.STANDALONE : MemberRole.ROLE_UNKNOWN;
        this.commitSeq = log.lastSeq();
        this.sessions = new PrimarySessions(this, log, settings);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "replication-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, 100, 100, TimeUnit.MILLISECONDS);
        if (role != MemberRole.STANDALONE) {
            LOG.info("{}: {} replication, epoch {}, log at seq {} (epoch {}); waiting to be promoted or to follow",
                    nodeId, settings.mode().name().toLowerCase(Locale.ROOT), log.epoch(), log.lastSeq(), log.lastEpoch());
        }
    }

    public String nodeId() {
        return nodeId;
    }

    public MemberRole role() {
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

    /** Refuses a batch this node must not serve; learns a higher epoch from it. */
    public void checkBatch(long requestEpoch, boolean replicaRead, boolean hasWrites) {
        if (role == MemberRole.STANDALONE) return;
        if (requestEpoch > 0) {
            long mine = log.epoch();
            if (requestEpoch < mine) {
                throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " is at epoch " + mine
                        + ", the request was routed by epoch " + requestEpoch + "; refresh the topology");
            }
            if (requestEpoch > mine) observeEpoch(requestEpoch, "a request");
        }
        if (replicaRead && !hasWrites) return;
        if (role != MemberRole.PRIMARY) {
            throw new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " is not the primary (role "
                    + role.name().toLowerCase(Locale.ROOT) + ", epoch " + log.epoch()
                    + (primaryAddress.isEmpty() ? "" : ", following " + primaryAddress) + ")");
        }
    }

    /** Applies a write group (with its log record when replicated); returns its seq (0 standalone). */
    public long write(List<Mutation> data) {
        switch (role) {
            case STANDALONE -> {
                store.write(data);
                return 0;
            }
            case PRIMARY -> {
                int in = sessions.inSyncCount();
                if (in < settings.acksNeeded()) {
                    throw new LimeException(ErrorCode.NOT_ENOUGH_REPLICAS, nodeId + ": " + in
                            + " replica(s) in sync, sync mode needs " + settings.acksNeeded()
                            + " (min.in.sync=" + settings.minInSync() + "); write refused, nothing was written");
                }
                long seq;
                synchronized (pendingOrder) {
                    seq = log.append(log.epoch(), data);
                    if (seq > commitSeq) {
                        var keys = new ArrayList<java.nio.ByteBuffer>(data.size());
                        for (Mutation m : data) {
                            var k = java.nio.ByteBuffer.wrap(m.key());
                            keys.add(k);
                            pending.put(k, seq);
                        }
                        pendingOrder.add(new PendingGroup(seq, keys));
                    }
                }
                sessions.wake();
                if (settings.acksNeeded() == 0) advanceCommit(seq);
                return seq;
            }
            default -> throw new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " is not the primary");
        }
    }

    /** The seq an answer must wait for: everything written so far (so nothing uncommitted is ever seen). */
    public long visibleSeq() {
        return role == MemberRole.STANDALONE ? 0 : log.lastSeq();
    }

    /** True when some write is not yet committed (answers may have to wait). */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /** The seq an answer that read or wrote this storage key must wait for (0: nothing uncommitted). */
    public long pendingSeq(byte[] storageKey) {
        if (role == MemberRole.STANDALONE) return 0;
        Long s = pending.get(java.nio.ByteBuffer.wrap(storageKey));
        return s == null ? 0 : s;
    }

    /** Completes when seq is committed; fails if this node stops being primary or replicas do not answer. */
    public CompletableFuture<Void> awaitCommit(long seq) {
        if (seq <= commitSeq || role == MemberRole.STANDALONE) return CompletableFuture.completedFuture(null);
        var f = new CompletableFuture<Void>();
        synchronized (waiting) {
            if (seq <= commitSeq) return CompletableFuture.completedFuture(null);
            if (role != MemberRole.PRIMARY) {
                f.completeExceptionally(new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " stopped being primary"));
                return f;
            }
            waiting.computeIfAbsent(seq, k -> new ArrayList<>()).add(new Waiter(f, System.nanoTime()));
        }
        return f;
    }

    void advanceCommit(long seq) {
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
            if (role == MemberRole.PRIMARY) {
                long cutoff = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(settings.ackTimeoutMs());
                failWaiting(new LimeException(ErrorCode.NOT_ENOUGH_REPLICAS, nodeId + ": write not acknowledged by "
                        + settings.acksNeeded() + " replica(s) within " + settings.ackTimeoutMs()
                        + " ms; it may or may not have been applied"), cutoff);
                sessions.heartbeat();
            }
            if (role != MemberRole.STANDALONE) log.trim(settings.retainRecords());
        } catch (RuntimeException e) {
            LOG.warn("{}: replication timer: {}", nodeId, e.toString());
        }
    }

    // ---- roles ----

    /** Become primary at epoch (persisted first). Idempotent for the same epoch. */
    public synchronized StatusResponse promote(long epoch) {
        requireReplicated();
        if (role == MemberRole.PRIMARY && epoch == log.epoch()) return status();
        if (epoch <= log.epoch()) {
            throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " cannot be promoted at epoch " + epoch
                    + ": it has already seen epoch " + log.epoch());
        }
        log.raiseEpoch(epoch);
        stopFollowing();
        commitSeq = Math.min(commitSeq, log.lastSeq());
        primaryAddress = "";
        role = MemberRole.PRIMARY;
        if (settings.acksNeeded() == 0) advanceCommit(log.lastSeq());
        LOG.info("{}: promoted to primary at epoch {} (log at seq {}, epoch {})", nodeId, epoch, log.lastSeq(), log.lastEpoch());
        return status();
    }

    /** Become a replica of primary at epoch (persisted first); a primary steps down at once. */
    public synchronized StatusResponse follow(String primary, long epoch) {
        requireReplicated();
        if (epoch < log.epoch() || (epoch == log.epoch() && role == MemberRole.PRIMARY)) {
            throw new LimeException(ErrorCode.STALE_EPOCH, nodeId + " cannot follow " + primary + " at epoch " + epoch
                    + ": it is at epoch " + log.epoch() + (role == MemberRole.PRIMARY ? " as primary" : ""));
        }
        if (role == MemberRole.REPLICA && primary.equals(primaryAddress) && epoch == log.epoch()) return status();
        log.raiseEpoch(epoch);
        stepDownIfPrimary("told to follow " + primary + " at epoch " + epoch);
        stopFollowing();
        role = MemberRole.REPLICA;
        primaryAddress = primary;
        follower = new Follower(this, primary, epoch);
        follower.start();
        LOG.info("{}: following {} at epoch {} (log at seq {})", nodeId, primary, epoch, log.lastSeq());
        return status();
    }

    /** A higher epoch seen anywhere: persist it; a primary stops acknowledging and waits to be told. */
    public synchronized void observeEpoch(long epoch, String from) {
        if (role == MemberRole.STANDALONE || epoch <= log.epoch()) return;
        log.raiseEpoch(epoch);
        if (role == MemberRole.PRIMARY) {
            stepDownIfPrimary("saw epoch " + epoch + " from " + from);
            role = MemberRole.ROLE_UNKNOWN;
        }
    }

    private void stepDownIfPrimary(String why) {
        if (role != MemberRole.PRIMARY) return;
        role = MemberRole.ROLE_UNKNOWN;
        sessions.closeAll();
        failWaiting(new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " stepped down (" + why
                + "); the write may or may not have been applied"), Long.MAX_VALUE);
        LOG.warn("{}: stepped down as primary: {}", nodeId, why);
    }

    private void stopFollowing() {
        if (follower != null) {
            follower.stop();
            follower = null;
        }
    }

    private void requireReplicated() {
        if (role == MemberRole.STANDALONE) {
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
        var b = StatusResponse.newBuilder().setNodeId(nodeId).setRole(role).setEpoch(log.epoch())
                .setLastSeq(log.lastSeq()).setLastEpoch(log.lastEpoch()).setCommitSeq(commitSeq)
                .setPrimaryAddress(primaryAddress).setPid(ProcessHandle.current().pid())
                .setDiscardedRecords(discarded)
                .setReplicationMode(settings.mode().name().toLowerCase(Locale.ROOT));
        if (role == MemberRole.PRIMARY) {
            Map<String, long[]> progress = sessions.progress();
            progress.forEach((id, p) -> b.addReplicas(ReplicaProgress.newBuilder().setNodeId(id)
                    .setAckedSeq(p[0]).setInSync(p[1] == 1)));
            b.setInSyncReplicas(sessions.inSyncCount());
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
        failWaiting(new LimeException(ErrorCode.NOT_PRIMARY, nodeId + " is shutting down"), Long.MAX_VALUE);
    }
}
