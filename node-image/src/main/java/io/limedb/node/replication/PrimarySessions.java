package io.limedb.node.replication;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.Heartbeat;
import io.limedb.api.v1.PrimaryMessage;
import io.limedb.api.v1.RecordBatch;
import io.limedb.api.v1.ReplicaHello;
import io.limedb.api.v1.ReplicaMessage;
import io.limedb.api.v1.ReplicaProgress;
import io.limedb.api.v1.SnapshotNeeded;
import io.limedb.core.topology.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's side of replication: one session per replica (a replica that reconnects replaces
 * its old session, so it counts once), each streaming log records from where that replica stands.
 * Acknowledgements move the commit point (the seq that at least minInSync-1 replicas have applied)
 * and renew the read lease (with the send time of the newest message they answer).
 *
 * <p>The thread that appended a write sends it on to replicas that are caught up (its records are
 * still in the log's memory tail), so a write reaches its replicas without a hop through another
 * thread; the sender thread does the rest: greetings, heartbeats, catching up from disk, streams
 * that were full. One lock per session keeps its messages in order and one thread at a time on
 * its stream.
 */
final class PrimarySessions {
    private static final Logger LOG = LoggerFactory.getLogger(PrimarySessions.class);
    private static final int MAX_RECORDS = 512;
    /** Sends to the log's end remembered per replica until it acknowledges them (see Session.endSeqs). */
    private static final int SENT_TO_END = 1024;
    private static final long MAX_BYTES = io.limedb.node.config.Limits.REPLICATION_CHUNK_BYTES; // the replica's inbound limit allows this plus one record

    private final ShardReplication replication;
    private final ReplicationLog log;
    private final ReplicationSettings settings;
    private final Map<Session, Boolean> sessions = new ConcurrentHashMap<>();
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        var t = new Thread(r, "replication-sender");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean wakeScheduled = new AtomicBoolean();
    private final AtomicBoolean writtenScheduled = new AtomicBoolean(); // a writing event loop will pump
    private static final java.util.concurrent.atomic.AtomicLong SERIALS = new java.util.concurrent.atomic.AtomicLong();
    // A replica silent this long (it answers every heartbeat) is gone or cut off: drop its session.
    private final long silenceNanos;
    private final long coalesceNanos;

    PrimarySessions(ShardReplication replication, ReplicationLog log, ReplicationSettings settings) {
        this.replication = replication;
        this.log = log;
        this.settings = settings;
        this.silenceNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(3000, 3 * settings.lagMaxMs()));
        this.coalesceNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(settings.lagMaxMs()) / 256);
    }

    /** One replica's stream. */
    final class Session implements StreamObserver<ReplicaMessage> {
        private final ServerCallStreamObserver<PrimaryMessage> out;
        private final long serial = SERIALS.incrementAndGet(); // the older of two sessions of one replica counts
        private volatile String replicaId = "?";
        private volatile String storageId = "";
        private volatile long nextSeq;
        private volatile long acked;
        private volatile long leaseStamp;
        private volatile long caughtUpNanos;
        private volatile long heardNanos = System.nanoTime();
        private volatile boolean open;
        private final ReentrantLock lock = new ReentrantLock(); // held while a thread sends on this stream
        /**
         * Sends that took the replica to the end of the log, oldest first, as (last seq sent, a time at which
         * the log ended at or before it): once the replica acknowledges that seq, it had everything the primary
         * had at that time. Under a steady stream of writes a replica a few milliseconds behind never
         * acknowledges the log's very end (newer records are always on the way), and counting only that made
         * a healthy replica "not caught up" for good. Guarded by itself; the oldest go first when full (that
         * only makes the replica look further behind, never closer).
         */
        private final long[] endSeqs = new long[SENT_TO_END];
        private final long[] endNanos = new long[SENT_TO_END];
        private int endHead;
        private int endCount;
        private boolean wasInSync; // as last logged; the timer thread's
        private final AtomicBoolean pumpWanted = new AtomicBoolean(); // set before trying the lock; its holder rechecks

        Session(ServerCallStreamObserver<PrimaryMessage> out) {
            this.out = out;
            out.setOnReadyHandler(PrimarySessions.this::wake);
        }

        @Override
        public void onNext(ReplicaMessage msg) {
            heardNanos = System.nanoTime();
            switch (msg.getMsgCase()) {
                case HELLO -> sender.execute(() -> hello(msg.getHello())); // reads the log: off the event loop
                case ACK -> {
                    if (!open) return;
                    var a = msg.getAck();
                    if (a.getSeq() > acked) acked = a.getSeq();
                    long upTo = caughtUpAt(acked);
                    if (acked >= log.lastSeq()) caughtUpNanos = System.nanoTime();
                    else if (upTo != 0 && upTo - caughtUpNanos > 0) caughtUpNanos = upTo;
                    if (a.getLeaseStamp() - leaseStamp > 0) leaseStamp = a.getLeaseStamp();
                    recompute();
                }
                case MSG_NOT_SET -> { }
            }
        }

        private void hello(ReplicaHello h) {
            replicaId = h.getNodeId();
            storageId = h.getStorageId();
            long mine = log.epoch();
            if (h.getEpoch() > mine) replication.observeEpoch(h.getEpoch(), "replica " + replicaId);
            if (replication.role() != Role.PRIMARY || h.getEpoch() != log.epoch()) {
                refuse(Status.FAILED_PRECONDITION.withDescription(replication.nodeId() + " is not the primary at epoch "
                        + h.getEpoch() + " (it is " + replication.role().name().toLowerCase(java.util.Locale.ROOT)
                        + " at epoch " + log.epoch() + ")"));
                return;
            }
            long agree = log.divergencePoint(h.getLastSeq(), h.getLastEpoch(), h.getHistoryList());
            if (agree < h.getLastSeq()) {
                LOG.info("{}: replica {} diverged after seq {} (it has up to {} of epoch {}); telling it to truncate",
                        replication.nodeId(), replicaId, agree, h.getLastSeq(), h.getLastEpoch());
                send(PrimaryMessage.newBuilder().setTruncateTo(agree).build());
                complete();
                return;
            }
            if (agree + 1 < log.firstSeq()) {
                LOG.info("{}: replica {} at seq {} is behind the log start {}; it needs a snapshot",
                        replication.nodeId(), replicaId, agree, log.firstSeq());
                send(PrimaryMessage.newBuilder().setSnapshotNeeded(
                        SnapshotNeeded.newBuilder().setLogStartSeq(log.firstSeq())).build());
                complete();
                return;
            }
            // One session per replica: a reconnect (the old stream may be half-open) replaces the old one.
            for (Session other : sessions.keySet()) {
                if (other != this && other.replicaId.equals(replicaId)) other.abort("replaced by a new connection");
            }
            nextSeq = agree + 1;
            acked = agree;
            if (acked >= log.lastSeq()) caughtUpNanos = System.nanoTime();
            open = true;
            sessions.put(this, Boolean.TRUE);
            LOG.info("{}: replica {} (storage {}) connected at seq {} (primary at {}, epoch {})", replication.nodeId(),
                    replicaId, storageId, agree, log.lastSeq(), log.epoch());
            wake();
        }

        @Override
        public void onError(Throwable t) {
            close("stream error: " + Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {
            close("replica closed the stream");
            complete();
        }

        private void complete() {
            lock.lock();
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed
            } finally {
                lock.unlock();
            }
        }

        private void refuse(Status s) {
            lock.lock();
            try {
                out.onError(s.asRuntimeException());
            } catch (RuntimeException ignored) {
                // already closed
            } finally {
                lock.unlock();
            }
        }

        /**
         * Closes the session now and tells the replica on the sender thread: a caller may hold the
         * replication monitor, which a thread sending on this stream may be waiting for (a commit it
         * completes runs callbacks), so it must not wait for the stream's lock.
         */
        void abort(String why) {
            close(why);
            sender.execute(() -> refuse(Status.UNAVAILABLE.withDescription(replication.nodeId() + ": " + why)));
        }

        void close(String why) {
            sessions.remove(this);
            if (!open) return;
            open = false;
            LOG.info("{}: replica {} disconnected ({})", replication.nodeId(), replicaId, why);
            recompute();
        }

        /** A send reached the log's end: seq is its last record, and the log ended at or before it at nanos. */
        private void sentToEnd(long seq, long nanos) {
            synchronized (endSeqs) {
                if (endCount > 0) {
                    // Sends less than a 256th of lag.max.ms apart share one entry, with the older time (the log
                    // ended before both): 1024 entries then span 4 x lag.max.ms whatever the write rate.
                    int newest = (endHead + endCount - 1) % SENT_TO_END;
                    if (nanos - endNanos[newest] < coalesceNanos) {
                        endSeqs[newest] = Math.max(endSeqs[newest], seq);
                        return;
                    }
                }
                if (endCount == SENT_TO_END) {
                    endHead = (endHead + 1) % SENT_TO_END;
                    endCount--;
                }
                int i = (endHead + endCount) % SENT_TO_END;
                endSeqs[i] = seq;
                endNanos[i] = nanos;
                endCount++;
            }
        }

        /** The latest time at which the replica, having acknowledged seq, had the whole log; 0 if none is known. */
        private long caughtUpAt(long seq) {
            long at = 0;
            synchronized (endSeqs) {
                while (endCount > 0 && endSeqs[endHead] <= seq) {
                    at = endNanos[endHead];
                    endHead = (endHead + 1) % SENT_TO_END;
                    endCount--;
                }
            }
            return at;
        }

        boolean inSync(long now) {
            return open && (acked >= log.lastSeq() || now - caughtUpNanos < TimeUnit.MILLISECONDS.toNanos(settings.lagMaxMs()));
        }

        /**
         * Sends what the log holds past nextSeq while the stream can take it, on the sender thread;
         * a thread that finds another one sending leaves the work to it (it checks again after).
         */
        void pumpFromSender() {
            do {
                lock.lock();
                try {
                    pumpWanted.set(false);
                    pump(false);
                } finally {
                    lock.unlock();
                }
            } while (pumpWanted.get() && open);
        }

        /**
         * The writing thread's turn: sends records that are still in the log's memory tail; anything
         * else (a read from disk) is left to the sender thread.
         */
        void pumpFromWriter() {
            pumpWanted.set(true);
            while (pumpWanted.get() && open && lock.tryLock()) {
                boolean rest;
                try {
                    pumpWanted.set(false);
                    rest = !pump(true);
                } finally {
                    lock.unlock();
                }
                if (rest) {
                    wake();
                    return;
                }
            }
        }

        /** Sends while it can; false when memoryOnly stopped it at records it would have to read from disk. */
        private boolean pump(boolean memoryOnly) {
            while (open && out.isReady() && nextSeq <= log.lastSeq()) {
                if (nextSeq < log.firstSeq()) {
                    if (memoryOnly) return false;
                    send(PrimaryMessage.newBuilder().setSnapshotNeeded(
                            SnapshotNeeded.newBuilder().setLogStartSeq(log.firstSeq())).build());
                    complete();
                    close("fell behind the log start");
                    return true;
                }
                long now = System.nanoTime();
                long end = log.lastSeq(); // read after now: at that time the log ended at or before it
                var records = memoryOnly ? log.readRecent(nextSeq, MAX_RECORDS, MAX_BYTES) : log.read(nextSeq, MAX_RECORDS, MAX_BYTES);
                if (records == null) return false;
                if (records.isEmpty()) return true;
                long last = records.get(records.size() - 1).getSeq();
                if (last >= end) sentToEnd(last, now);
                // The stamp and end read before the records: a lease renewed from it is shorter, never longer.
                send(PrimaryMessage.newBuilder().setRecords(RecordBatch.newBuilder().addAllRecords(records)
                        .setPrimaryLastSeq(Math.max(end, last)).setCommitSeq(replication.commitSeq())
                        .setLeaseStamp(now)).build());
                nextSeq = last + 1;
            }
            return true;
        }

        void send(PrimaryMessage m) {
            lock.lock();
            try {
                out.onNext(m);
            } catch (RuntimeException e) {
                sender.execute(() -> close("send failed: " + e)); // not under the lock: see abort
            } finally {
                lock.unlock();
            }
        }
    }

    StreamObserver<ReplicaMessage> open(StreamObserver<PrimaryMessage> out) {
        return new Session((ServerCallStreamObserver<PrimaryMessage>) out);
    }

    /** Something to send: pump every session on the sender thread (coalesced). */
    void wake() {
        if (wakeScheduled.compareAndSet(false, true)) {
            sender.execute(() -> {
                wakeScheduled.set(false);
                for (Session s : sessions.keySet()) {
                    try {
                        s.pumpFromSender();
                    } catch (RuntimeException e) {
                        s.close("pump failed: " + e);
                    }
                }
            });
        }
    }

    /**
     * A write was appended: the calling thread sends it to the replicas it can (see the class
     * comment). On an event loop that is once the loop has run what else it read now, so the
     * batches that arrived together leave in one message.
     */
    void written() {
        var loop = io.netty.util.internal.ThreadExecutorMap.currentExecutor();
        if (loop == null) {
            pumpFromWriter();
        } else if (writtenScheduled.compareAndSet(false, true)) {
            loop.execute(() -> {
                writtenScheduled.set(false);
                pumpFromWriter();
            });
        }
    }

    private void pumpFromWriter() {
        for (Session s : sessions.keySet()) {
            try {
                s.pumpFromWriter();
            } catch (RuntimeException e) {
                s.close("pump failed: " + e);
            }
        }
    }

    /** Every 100 ms: a heartbeat to each replica whose stream can take it; silent replicas are dropped. */
    void heartbeat() {
        logSyncChanges();
        sender.execute(() -> {
            long now = System.nanoTime();
            var hb = PrimaryMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setPrimaryLastSeq(log.lastSeq())
                    .setCommitSeq(replication.commitSeq()).setEpoch(log.epoch()).setLeaseStamp(now)).build();
            for (Session s : sessions.keySet()) {
                if (now - s.heardNanos > silenceNanos) {
                    s.abort("no answer from the replica for " + TimeUnit.NANOSECONDS.toMillis(now - s.heardNanos) + " ms");
                } else if (s.out.isReady()) {
                    s.send(hb);
                }
            }
        });
        wake();
    }

    /** Logs each replica that joined or left the in-sync set since the last heartbeat (the timer thread). */
    private void logSyncChanges() {
        long now = System.nanoTime();
        for (Session s : sessions.keySet()) {
            boolean in = s.inSync(now);
            if (in == s.wasInSync) continue;
            s.wasInSync = in;
            if (in) {
                LOG.info("{}: replica {} is in sync (acknowledged seq {}, log at {})", replication.nodeId(), s.replicaId,
                        s.acked, log.lastSeq());
            } else if (s.open) {
                LOG.warn("{}: replica {} is no longer in sync: it acknowledged seq {} of {}, and had the whole log {} "
                        + "(replication.lag.max.ms={})", replication.nodeId(), s.replicaId, s.acked, log.lastSeq(),
                        s.caughtUpNanos == 0 ? "never" : TimeUnit.NANOSECONDS.toMillis(now - s.caughtUpNanos) + " ms ago",
                        settings.lagMaxMs());
            }
        }
    }

    /** Replicas in sync, each counted once (no allocation: this runs on every write). */
    int inSyncCount() {
        long now = System.nanoTime();
        int n = 0;
        for (Session s : sessions.keySet()) {
            if (!s.inSync(now)) continue;
            boolean counted = false;
            for (Session t : sessions.keySet()) {
                if (t.serial < s.serial && t.replicaId.equals(s.replicaId) && t.inSync(now)) {
                    counted = true;
                    break;
                }
            }
            if (!counted) n++;
        }
        return n;
    }

    /** Commit point and lease from the acknowledgements: the need-th highest, counting each replica once. */
    private void recompute() {
        int need = settings.acksNeeded();
        if (need == 0) return;
        Map<String, long[]> best = new HashMap<>(); // replica -> {acked, lease stamp}
        for (Session s : sessions.keySet()) {
            if (!s.open) continue;
            long[] b = best.computeIfAbsent(s.replicaId, k -> new long[] {0, Long.MIN_VALUE});
            b[0] = Math.max(b[0], s.acked);
            if (s.leaseStamp != 0 && (b[1] == Long.MIN_VALUE || s.leaseStamp - b[1] > 0)) b[1] = s.leaseStamp;
        }
        if (best.size() < need) return;
        var values = new ArrayList<>(best.values());
        values.sort((x, y) -> Long.compare(y[0], x[0]));
        replication.acknowledged(values.get(need - 1)[0]);
        values.sort((x, y) -> x[1] == Long.MIN_VALUE ? 1 : y[1] == Long.MIN_VALUE ? -1 : Long.compare(0, x[1] - y[1]));
        long stamp = values.get(need - 1)[1];
        if (stamp != Long.MIN_VALUE) replication.renewLease(stamp);
    }

    List<ReplicaProgress> progress() {
        long now = System.nanoTime();
        var out = new ArrayList<ReplicaProgress>();
        for (Session s : sessions.keySet()) {
            out.add(ReplicaProgress.newBuilder().setNodeId(s.replicaId).setAckedSeq(s.acked).setInSync(s.inSync(now)).build());
        }
        return out;
    }

    void closeAll() {
        for (Session s : sessions.keySet()) s.abort("no longer primary");
    }
}
