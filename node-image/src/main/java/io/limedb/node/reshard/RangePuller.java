package io.limedb.node.reshard;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.ChangesRequest;
import io.limedb.api.v1.ChangesResponse;
import io.limedb.api.v1.CopyChunk;
import io.limedb.api.v1.CopyRequest;
import io.limedb.api.v1.PullRequest;
import io.limedb.api.v1.PullResponse;
import io.limedb.api.v1.PullState;
import io.limedb.api.v1.RangesGrpc;
import io.limedb.core.ring.RangeSet;
import io.limedb.node.errors.LimeException;
import io.limedb.node.replication.ShardReplication;
import io.limedb.node.storage.KeyValueStore.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's side of a move: drops whatever it holds of the ranges, copies them from the source's
 * primary (a consistent view at one seq of the source's log), then applies the source's writes to them
 * since, record by record, for as long as the move lasts. When told to finish at a seq (the source no
 * longer owns the ranges from that seq on), it applies up to there, waits until its replicas hold
 * everything, and takes ownership. One pull at a time; a pull for another move, source epoch or own
 * epoch starts over. Everything it writes goes through the log, so its replicas receive it too.
 */
final class RangePuller {
    private static final Logger LOG = LoggerFactory.getLogger(RangePuller.class);
    private static final long CAUGHT_UP_RECORDS = 64;
    private static final long FINISH_WAIT_MS = 5000;
    private static final int WINDOW_CHUNKS = 3;
    private static final long ABANDONED_AFTER_S = 60;

    private final ShardReplication replication;
    private final int maxMessageBytes;
    private Task task;

    RangePuller(ShardReplication replication, int maxMessageBytes) {
        this.replication = replication;
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * Stops (and waits for) a pull whose ranges overlap {@code ranges}: they are about to be dropped
     * (a rolled-back move), and nothing may be written into them after that.
     */
    void stopOverlapping(RangeSet ranges) {
        Task t;
        synchronized (this) {
            t = task;
            if (t == null || t.ranges.minus(ranges).equals(t.ranges)) return;
            task = null;
        }
        t.cancel();
        try {
            t.thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    PullResponse pull(PullRequest req) {
        replication.requirePrimaryAt(req.getEpoch());
        var ranges = RangeSet.of(Owned.fromProto(req.getRangesList()));
        var owned = replication.log().owned();
        if (owned == null) {
            throw new LimeException(io.limedb.node.errors.ErrorCode.INVALID_ARGUMENT, replication.nodeId()
                    + " was never told what it owns; set its ownership before pulling ranges into it");
        }
        // Finished earlier (perhaps before a restart): it owns them at the version asked or later.
        if (req.hasOwnAfter() && owned.ringVersion() >= req.getOwnAfter().getRingVersion()
                && ranges.minus(owned.ranges()).isEmpty()) {
            return PullResponse.newBuilder().setState(PullState.PULL_FINISHED).build();
        }
        String key = req.getMove() + "@" + req.getSourceEpoch() + "/" + req.getEpoch() + " from " + req.getSourceAddress();
        Task t;
        synchronized (this) {
            if (task == null || !task.key.equals(key) || task.state == PullState.PULL_FAILED) {
                if (task != null) task.cancel();
                task = new Task(key, req, ranges);
                task.start();
            }
            t = task;
            t.lastAsked = System.nanoTime();
            if (req.getFinishAtSeq() > 0) t.finish(req.getFinishAtSeq(), req.getOwnAfter());
        }
        if (req.getFinishAtSeq() > 0) t.awaitFinished(FINISH_WAIT_MS);
        return t.response();
    }

    private final class Task implements Runnable {
        final String key;
        final PullRequest req;
        final RangeSet ranges;
        final ManagedChannel channel;
        final Thread thread;
        volatile PullState state = PullState.PULL_COPYING;
        volatile String error = "";
        volatile long keys, bytes, sourceSeq, sourceLast;
        volatile long finishAt;
        volatile io.limedb.api.v1.RangeOwnership ownAfter;
        volatile boolean cancelled;
        volatile long lastAsked = System.nanoTime();

        Task(String key, PullRequest req, RangeSet ranges) {
            this.key = key;
            this.req = req;
            this.ranges = ranges;
            this.channel = NettyChannelBuilder.forTarget(req.getSourceAddress()).usePlaintext()
                    .maxInboundMessageSize(maxMessageBytes).build();
            this.thread = Thread.ofPlatform().daemon().name("pull-" + req.getMove()).unstarted(this);
        }

        void start() {
            thread.start();
        }

        synchronized void finish(long seq, io.limedb.api.v1.RangeOwnership own) {
            finishAt = seq;
            ownAfter = own;
            notifyAll();
        }

        synchronized void awaitFinished(long ms) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
            while (state != PullState.PULL_FINISHED && state != PullState.PULL_FAILED) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) return;
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        void cancel() {
            cancelled = true;
            thread.interrupt();
            channel.shutdownNow();
        }

        PullResponse response() {
            var b = PullResponse.newBuilder().setState(state).setKeys(keys).setBytes(bytes).setSourceSeq(sourceSeq)
                    .setSourceLastSeq(sourceLast);
            if (!error.isEmpty()) b.setError(error);
            return b.build();
        }

        private synchronized void set(PullState s) {
            state = s;
            notifyAll();
        }

        @Override
        public void run() {
            long start = System.nanoTime();
            try {
                var own = replication.log().owned();
                long epoch = req.getEpoch();
                // What an earlier attempt left behind goes first (a replicated range delete).
                replication.setOwnership(epoch, own.toProto(), Owned.toProto(ranges.ranges()));
                var stub = RangesGrpc.newBlockingStub(channel);
                var it = stub.withDeadlineAfter(30, TimeUnit.MINUTES)
                        .copy(CopyRequest.newBuilder().setEpoch(req.getSourceEpoch()).addAllRanges(req.getRangesList()).build());
                long seq = -1;
                long lastSeq = 0;
                var window = new java.util.ArrayDeque<Long>();
                while (it.hasNext()) {
                    CopyChunk c = it.next();
                    check();
                    seq = c.getSeq();
                    var data = new ArrayList<Mutation>(c.getEntriesCount());
                    for (var e : c.getEntriesList()) {
                        data.add(Mutation.put(e.getKey().toByteArray(), e.getValue().toByteArray()));
                        bytes += e.getKey().size() + e.getValue().size();
                    }
                    if (!data.isEmpty()) {
                        // At most a few chunks ahead of the replicas: a replica that falls out of sync
                        // would stop the shard's writes (sync mode) and the copy with them.
                        if (window.size() >= WINDOW_CHUNKS) awaitCommit(window.removeFirst());
                        lastSeq = write(data);
                        window.addLast(lastSeq);
                    }
                    keys += data.size();
                    if (c.getLast()) break;
                }
                if (seq < 0) throw new IllegalStateException("the copy from " + req.getSourceAddress() + " ended early");
                LOG.info("{}: move {}: copied {} keys ({} bytes) at source seq {} in {} ms", replication.nodeId(),
                        req.getMove(), keys, bytes, seq, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                sourceSeq = seq;
                set(PullState.PULL_CATCHING_UP);
                long next = seq + 1;
                while (true) {
                    check();
                    ChangesResponse ch = stub.withDeadlineAfter(10, TimeUnit.SECONDS).changes(ChangesRequest.newBuilder()
                            .setEpoch(req.getSourceEpoch()).setFromSeq(next).addAllRanges(req.getRangesList()).build());
                    if (ch.getMutationsCount() > 0) {
                        var data = new ArrayList<Mutation>(ch.getMutationsCount());
                        for (var m : ch.getMutationsList()) {
                            data.add(m.getDelete() ? Mutation.delete(m.getKey().toByteArray())
                                    : Mutation.put(m.getKey().toByteArray(), m.getValue().toByteArray()));
                            bytes += m.getKey().size() + m.getValue().size();
                        }
                        awaitCommit(lastSeq);
                        lastSeq = write(data);
                        keys += data.size();
                    }
                    next = ch.getNextSeq();
                    sourceSeq = next - 1;
                    sourceLast = ch.getLastSeq();
                    long f = finishAt;
                    if (f > 0 && next > f) break;
                    if (state == PullState.PULL_CATCHING_UP && ch.getLastSeq() - sourceSeq <= CAUGHT_UP_RECORDS) {
                        set(PullState.PULL_CAUGHT_UP);
                    }
                    if (next > ch.getLastSeq()) {
                        synchronized (this) {
                            if (finishAt == 0) wait(20); // idle: look again soon, or at once when told to finish
                        }
                    }
                }
                // Every record copied is in the replicas before the shard owns the ranges.
                replication.awaitCommit(lastSeq).get(30, TimeUnit.SECONDS);
                replication.setOwnership(epoch, ownAfter, List.of());
                LOG.info("{}: move {}: caught up to source seq {} and owns the ranges at ring version {} ({} ms in all)",
                        replication.nodeId(), req.getMove(), sourceSeq, ownAfter.getRingVersion(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                set(PullState.PULL_FINISHED);
            } catch (Exception e) {
                if (!cancelled) {
                    error = LimeException.of(e instanceof java.util.concurrent.ExecutionException ee && ee.getCause() != null
                            ? ee.getCause() : e).getMessage();
                    LOG.warn("{}: move {} failed: {}", replication.nodeId(), req.getMove(), error);
                }
                set(PullState.PULL_FAILED);
            } finally {
                channel.shutdownNow();
            }
        }

        /** Writes moved data; a moment without enough replicas in sync is waited out, not a failure. */
        private long write(List<Mutation> data) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                check();
                try {
                    return replication.writeMoved(data);
                } catch (LimeException e) {
                    if (e.code() != io.limedb.node.errors.ErrorCode.NOT_ENOUGH_REPLICAS || System.nanoTime() > deadline) throw e;
                    Thread.sleep(50);
                }
            }
        }

        private void awaitCommit(long seq) throws Exception {
            if (seq > 0) replication.awaitCommit(seq).get(30, TimeUnit.SECONDS);
        }

        private void check() {
            if (cancelled || Thread.currentThread().isInterrupted()) throw new IllegalStateException("pull cancelled");
            if (System.nanoTime() - lastAsked > TimeUnit.SECONDS.toNanos(ABANDONED_AFTER_S)) {
                throw new IllegalStateException("nobody asked about this move for " + ABANDONED_AFTER_S + " s: abandoned");
            }
            replication.requirePrimaryAt(req.getEpoch());
        }
    }
}
