package io.limedb.node.replication;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.limedb.api.v1.FetchKeysRequest;
import io.limedb.api.v1.PrimaryMessage;
import io.limedb.api.v1.RecordBatch;
import io.limedb.api.v1.ReplicaHello;
import io.limedb.api.v1.ReplicaMessage;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.SnapshotChunk;
import io.limedb.api.v1.SnapshotRequest;
import io.limedb.node.config.Limits;
import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.KeyValueStore.Space;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica's side: keeps one Replicate stream open to the primary, applies the records it sends
 * (data and log in one atomic write) and acknowledges them. When told its log diverged it truncates
 * and re-fetches the keys the dropped records touched; when too far behind it copies a snapshot.
 * Everything runs in order: on one thread of its own, or for records and heartbeats, when that
 * thread has nothing of the stream to do, on the channel's event loop that received them.
 */
final class Follower {
    private static final Logger LOG = LoggerFactory.getLogger(Follower.class);

    private final ShardReplication replication;
    private final ReplicationLog log;
    private final String primary;
    private final long epoch;
    private final ExecutorService thread;
    private final ManagedChannel channel;
    private volatile boolean stopped;
    private volatile boolean connected;
    private volatile long primaryLastSeq;
    private volatile long behindSinceNanos;
    private long catchUpTarget = -1; // the primary's commit point when we connected; reaching it = caught up
    private ClientCallStreamObserver<ReplicaMessage> stream;
    // The stream's callbacks handed to our thread and not finished: while any is, later ones queue behind it.
    private final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
    private final List<RecordBatch> held = new ArrayList<>(); // records received on the event loop, not applied yet (event loop only)

    Follower(ShardReplication replication, String primary, long epoch) {
        this.replication = replication;
        this.log = replication.log();
        this.primary = primary;
        this.epoch = epoch;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            var t = new Thread(r, "follower-" + primary);
            t.setDaemon(true);
            return t;
        });
        // The stream's messages arrive on the channel's event loop (direct executor: no hop through
        // gRPC's shared pool, one thread switch fewer per batch) and only hop to our thread there.
        // (Delivering on our thread would deadlock the blocking snapshot and fetch calls we make from
        // it; those deliver to their calling thread whatever the channel's executor.)
        // Inbound limit: a batch of records or snapshot entries plus the largest single record.
        this.channel = NettyChannelBuilder.forTarget(primary).usePlaintext().directExecutor()
                .maxInboundMessageSize(replication.settings().maxInboundBytes()).build();
    }

    void start() {
        thread.execute(this::connect);
    }

    long epoch() {
        return epoch;
    }

    boolean connected() {
        return connected;
    }

    long lagRecords() {
        return Math.max(0, primaryLastSeq - log.lastSeq());
    }

    long lagMs() {
        long since = behindSinceNanos;
        return since == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    private void connect() {
        if (stopped) return;
        channel.resetConnectBackoff();
        ReplicationGrpc.newStub(channel).replicate(new ClientResponseObserver<ReplicaMessage, PrimaryMessage>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ReplicaMessage> s) {
                stream = s;
            }

            @Override
            public void onNext(PrimaryMessage m) {
                // Records and heartbeats are handled right here on the channel's event loop when
                // nothing of the stream waits on our thread and the write cannot block: two thread
                // switches fewer per batch (the hop to our thread, and its acknowledgement's hop back
                // to the event loop). Records are held until the event loop has read what arrived
                // with them, then applied in one write and acknowledged once. Truncations and
                // snapshots make blocking calls on this channel, so they always go to our thread,
                // and so does everything after them until it has caught up.
                boolean inline = queued.get() == 0 && switch (m.getMsgCase()) {
                    case RECORDS -> !log.store().writesMayBlock();
                    case HEARTBEAT -> true;
                    default -> false;
                };
                if (inline && m.getMsgCase() == PrimaryMessage.MsgCase.RECORDS) {
                    hold(m.getRecords());
                    return;
                }
                if (inline) {
                    applyHeld();
                    guarded(() -> handle(m));
                    return;
                }
                handOverHeld();
                onThreadInOrder(() -> guarded(() -> handle(m)));
            }

            @Override
            public void onError(Throwable t) {
                handOverHeld();
                onThreadInOrder(() -> {
                    connected = false;
                    if (!stopped) {
                        LOG.debug("{}: stream to {} ended: {}", replication.nodeId(), primary, Status.fromThrowable(t));
                        retryLater();
                    }
                });
            }

            @Override
            public void onCompleted() {
                handOverHeld();
                onThreadInOrder(() -> {
                    connected = false;
                    retryLater();
                });
            }
        });
        catchUpTarget = -1;
        stream.onNext(ReplicaMessage.newBuilder().setHello(ReplicaHello.newBuilder()
                .setNodeId(replication.nodeId()).setEpoch(epoch).setLastSeq(log.lastSeq())
                .setLastEpoch(log.lastEpoch()).addAllHistory(log.history()).setStorageId(log.storageId())).build());
    }

    /** Runs a step of the stream unless stopped; a failure ends the stream (it reconnects). */
    private void guarded(Runnable step) {
        if (stopped) return;
        try {
            step.run();
        } catch (RuntimeException e) {
            LOG.warn("{}: replication from {} failed: {}", replication.nodeId(), primary, e.toString());
            stream.cancel("apply failed", e);
        }
    }

    /** On the event loop: keeps records to apply after what else that loop has read now. */
    private void hold(RecordBatch batch) {
        boolean first = held.isEmpty();
        held.add(batch);
        if (!first) return;
        var loop = io.netty.util.internal.ThreadExecutorMap.currentExecutor();
        if (loop != null) loop.execute(this::applyHeld);
        else applyHeld();
    }

    /** On the event loop: applies the held records in one write. */
    private void applyHeld() {
        if (!held.isEmpty()) applyInOneWrite(takeHeld()).run();
    }

    /** On the event loop, before anything goes to our thread: the held records go first. */
    private void handOverHeld() {
        if (!held.isEmpty()) onThreadInOrder(applyInOneWrite(takeHeld()));
    }

    private List<RecordBatch> takeHeld() {
        var batches = List.copyOf(held);
        held.clear();
        return batches;
    }

    private Runnable applyInOneWrite(List<RecordBatch> batches) {
        return () -> guarded(() -> apply(batches));
    }

    /** Runs a callback of the stream on our thread, counted so that later ones do not overtake it. */
    private void onThreadInOrder(Runnable r) {
        queued.incrementAndGet();
        onThread(() -> {
            try {
                r.run();
            } finally {
                queued.decrementAndGet();
            }
        });
    }

    private void onThread(Runnable r) {
        try {
            thread.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopped: nothing more to do
        }
    }

    private void retryLater() {
        if (stopped) return;
        onThread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            connect();
        });
    }

    private void handle(PrimaryMessage m) {
        switch (m.getMsgCase()) {
            case RECORDS -> apply(List.of(m.getRecords()));
            case HEARTBEAT -> {
                var hb = m.getHeartbeat();
                if (hb.getEpoch() > epoch) replication.observeEpoch(hb.getEpoch(), primary);
                if (!replication.stillFollowing(this)) {
                    fenced();
                    return;
                }
                connected = true;
                primaryLastSeq = Math.max(primaryLastSeq, hb.getPrimaryLastSeq());
                replication.replicaCommit(hb.getCommitSeq());
                trackLag();
                trackCatchUp(hb.getCommitSeq());
                ack(hb.getLeaseStamp()); // renews the primary's read lease
            }
            case TRUNCATE_TO -> truncate(m.getTruncateTo());
            case SNAPSHOT_NEEDED -> copySnapshot();
            case MSG_NOT_SET -> { }
        }
    }

    /** Applies batches (in order) in one write and acknowledges them at once. */
    private void apply(List<RecordBatch> batches) {
        var records = batches.size() == 1 ? batches.get(0).getRecordsList() : new ArrayList<io.limedb.api.v1.LogRecord>();
        if (batches.size() > 1) for (var b : batches) records.addAll(b.getRecordsList());
        // Refused once fenced at a higher epoch: the deposed primary gets no acknowledgement from us.
        if (!replication.applyAsFollower(this, records)) {
            fenced();
            return;
        }
        connected = true;
        var last = batches.get(batches.size() - 1); // the newest: highest seqs and lease stamp
        long commit = 0;
        for (var b : batches) {
            primaryLastSeq = Math.max(primaryLastSeq, b.getPrimaryLastSeq());
            commit = Math.max(commit, b.getCommitSeq());
        }
        replication.replicaCommit(commit);
        trackLag();
        trackCatchUp(commit);
        ack(last.getLeaseStamp());
    }

    private void ack(long leaseStamp) {
        stream.onNext(ReplicaMessage.newBuilder().setAck(io.limedb.api.v1.ReplicaAck.newBuilder()
                .setSeq(log.lastSeq()).setLeaseStamp(leaseStamp)).build());
    }

    private void fenced() {
        LOG.info("{}: no longer following {} at epoch {} (now at epoch {}); closing the stream", replication.nodeId(),
                primary, epoch, log.epoch());
        stopped = true;
        connected = false;
        stream.cancel("fenced at a higher epoch", null);
    }

    /** A new storage counts as a full copy once it holds what its primary had committed when it connected. */
    private void trackCatchUp(long primaryCommit) {
        if (log.caughtUp()) return;
        if (catchUpTarget < 0) catchUpTarget = primaryCommit;
        if (log.lastSeq() >= catchUpTarget) {
            log.markCaughtUp();
            LOG.info("{}: storage {} caught up with {} at seq {}", replication.nodeId(), log.storageId(), primary, log.lastSeq());
        }
    }

    private void trackLag() {
        if (log.lastSeq() >= primaryLastSeq) behindSinceNanos = 0;
        else if (behindSinceNanos == 0) behindSinceNanos = System.nanoTime();
    }

    /** Drops our records after seq, then makes the keys they touched match the primary again. */
    private void truncate(long seq) {
        var t = log.divergentAfter(seq);
        var keys = new ArrayList<ByteString>();
        for (ByteBuffer k : t.keys()) keys.add(ByteString.copyFrom(k.duplicate()));
        var data = new ArrayList<Mutation>();
        int calls = fetchKeys(keys, data);
        if (!replication.truncateAsFollower(this, seq, data)) {
            fenced();
            return;
        }
        replication.recordDiscarded(t.records());
        LOG.warn("{}: discarded {} divergent record(s) after seq {} and re-fetched {} key(s) from {} in {} call(s)",
                replication.nodeId(), t.records(), seq, t.keys().size(), primary, calls);
    }

    /**
     * Fetches the primary's current entries for the keys into data, asking for about
     * {@link Limits#REPLICATION_CHUNK_BYTES} of keys at a time. The primary answers a prefix of the keys
     * asked (at least one) when their values would take more; the rest are asked again. Returns the
     * number of calls made.
     */
    private int fetchKeys(List<ByteString> keys, List<Mutation> data) {
        int calls = 0;
        for (int next = 0; next < keys.size(); calls++) {
            var req = FetchKeysRequest.newBuilder().setEpoch(epoch);
            long bytes = 0;
            for (int i = next; i < keys.size() && (i == next || bytes + keys.get(i).size() <= Limits.REPLICATION_CHUNK_BYTES); i++) {
                req.addKeys(keys.get(i));
                bytes += keys.get(i).size() + 8;
            }
            var fetched = ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).fetchKeys(req.build());
            int n = fetched.getEntriesCount();
            if (n == 0 || n > req.getKeysCount()) {
                throw new IllegalStateException(primary + " answered " + n + " entries for " + req.getKeysCount() + " keys");
            }
            for (int i = 0; i < n; i++) {
                var e = fetched.getEntries(i);
                if (!e.getKey().equals(keys.get(next + i))) throw new IllegalStateException(primary + " answered keys out of order");
                data.add(e.getDelete() ? Mutation.delete(e.getKey().toByteArray())
                        : Mutation.put(e.getKey().toByteArray(), e.getValue().toByteArray()));
            }
            next += n;
        }
        return calls;
    }

    /** Replaces all data with the primary's snapshot, then follows from the snapshot's seq. */
    private void copySnapshot() {
        if (!replication.stillFollowing(this)) {
            fenced();
            return;
        }
        LOG.info("{}: copying a snapshot from {} (local log ends at {})", replication.nodeId(), primary, log.lastSeq());
        var store = log.store();
        log.forgetPosition();
        store.deleteRange(Space.DATA, null, null);
        long[] count = {0};
        SnapshotChunk last = null;
        var it = ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.MINUTES)
                .snapshot(SnapshotRequest.newBuilder().setEpoch(epoch).build());
        while (it.hasNext()) {
            SnapshotChunk c = it.next();
            var data = new ArrayList<Mutation>(c.getEntriesCount());
            for (var e : c.getEntriesList()) data.add(Mutation.put(e.getKey().toByteArray(), e.getValue().toByteArray()));
            store.write(data);
            count[0] += data.size();
            last = c;
        }
        if (last == null || !last.getLast()) throw new IllegalStateException("snapshot from " + primary + " ended early");
        log.resetTo(last.getSeq(), last.getSeqEpoch(), last.getHistoryList(),
                last.hasOwnership() ? last.getOwnership() : null);
        LOG.info("{}: snapshot of {} keys at seq {} copied from {}", replication.nodeId(), count[0], last.getSeq(), primary);
    }

    void stop() {
        stopped = true;
        connected = false;
        var s = stream;
        onThread(() -> {
            if (s != null) s.cancel("stopped following", null);
            channel.shutdownNow();
            // Let the channel deliver its last callbacks on our thread before that thread goes.
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    channel.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // stopping anyway
                }
                thread.shutdown();
            });
        });
    }
}
