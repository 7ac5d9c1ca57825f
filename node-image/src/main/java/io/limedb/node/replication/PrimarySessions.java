package io.limedb.node.replication;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.Heartbeat;
import io.limedb.api.v1.MemberRole;
import io.limedb.api.v1.PrimaryMessage;
import io.limedb.api.v1.RecordBatch;
import io.limedb.api.v1.ReplicaHello;
import io.limedb.api.v1.ReplicaMessage;
import io.limedb.api.v1.SnapshotNeeded;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's side of replication: one session per connected replica, each streaming log records
 * from where that replica stands; acknowledgements move the commit point (the seq that at least
 * minInSync-1 replicas have applied).
 */
final class PrimarySessions {
    private static final Logger LOG = LoggerFactory.getLogger(PrimarySessions.class);
    private static final int MAX_RECORDS = 512;
    private static final long MAX_BYTES = 4 << 20;

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

    PrimarySessions(ShardReplication replication, ReplicationLog log, ReplicationSettings settings) {
        this.replication = replication;
        this.log = log;
        this.settings = settings;
    }

    /** One replica's stream. */
    final class Session implements StreamObserver<ReplicaMessage> {
        private final ServerCallStreamObserver<PrimaryMessage> out;
        private volatile String replicaId = "?";
        private volatile long nextSeq;
        private volatile long acked;
        private volatile long caughtUpNanos;
        private volatile boolean open;

        Session(ServerCallStreamObserver<PrimaryMessage> out) {
            this.out = out;
            out.setOnReadyHandler(PrimarySessions.this::wake);
        }

        @Override
        public void onNext(ReplicaMessage msg) {
            switch (msg.getMsgCase()) {
                case HELLO -> hello(msg.getHello());
                case ACK -> {
                    acked = Math.max(acked, msg.getAck().getSeq());
                    if (acked >= log.lastSeq()) caughtUpNanos = System.nanoTime();
                    recomputeCommit();
                }
                case MSG_NOT_SET -> { }
            }
        }

        private void hello(ReplicaHello h) {
            replicaId = h.getNodeId();
            if (h.getEpoch() > log.epoch()) {
                replication.observeEpoch(h.getEpoch(), "replica " + replicaId);
            }
            if (replication.role() != MemberRole.PRIMARY || h.getEpoch() > log.epoch()) {
                out.onError(Status.FAILED_PRECONDITION.withDescription(replication.nodeId()
                        + " is not the primary at epoch " + h.getEpoch()).asRuntimeException());
                return;
            }
            long agree = log.divergencePoint(h.getLastSeq(), h.getLastEpoch(), h.getHistoryList());
            if (agree < h.getLastSeq()) {
                LOG.info("{}: replica {} diverged after seq {} (it has up to {} of epoch {}); telling it to truncate",
                        replication.nodeId(), replicaId, agree, h.getLastSeq(), h.getLastEpoch());
                send(PrimaryMessage.newBuilder().setTruncateTo(agree).build());
                out.onCompleted();
                return;
            }
            if (agree + 1 < log.firstSeq()) {
                LOG.info("{}: replica {} at seq {} is behind the log start {}; it needs a snapshot",
                        replication.nodeId(), replicaId, agree, log.firstSeq());
                send(PrimaryMessage.newBuilder().setSnapshotNeeded(
                        SnapshotNeeded.newBuilder().setLogStartSeq(log.firstSeq())).build());
                out.onCompleted();
                return;
            }
            nextSeq = agree + 1;
            acked = agree;
            if (acked >= log.lastSeq()) caughtUpNanos = System.nanoTime();
            open = true;
            sessions.put(this, Boolean.TRUE);
            LOG.info("{}: replica {} connected at seq {} (primary at {})", replication.nodeId(), replicaId, agree, log.lastSeq());
            wake();
        }

        @Override
        public void onError(Throwable t) {
            close("stream error: " + Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {
            close("replica closed the stream");
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }

        void close(String why) {
            if (!open) return;
            open = false;
            sessions.remove(this);
            LOG.info("{}: replica {} disconnected ({})", replication.nodeId(), replicaId, why);
            recomputeCommit();
        }

        boolean inSync(long now) {
            return open && (acked >= log.lastSeq() || now - caughtUpNanos < TimeUnit.MILLISECONDS.toNanos(settings.lagMaxMs()));
        }

        /** Sends records while the stream can take them; on the sender thread only. */
        void pump() {
            while (open && out.isReady() && nextSeq <= log.lastSeq()) {
                if (nextSeq < log.firstSeq()) {
                    send(PrimaryMessage.newBuilder().setSnapshotNeeded(
                            SnapshotNeeded.newBuilder().setLogStartSeq(log.firstSeq())).build());
                    out.onCompleted();
                    close("fell behind the log start");
                    return;
                }
                var records = log.read(nextSeq, MAX_RECORDS, MAX_BYTES);
                if (records.isEmpty()) return;
                send(PrimaryMessage.newBuilder().setRecords(RecordBatch.newBuilder().addAllRecords(records)
                        .setPrimaryLastSeq(log.lastSeq()).setCommitSeq(replication.commitSeq())).build());
                nextSeq = records.get(records.size() - 1).getSeq() + 1;
            }
        }

        void send(PrimaryMessage m) {
            try {
                out.onNext(m);
            } catch (RuntimeException e) {
                close("send failed: " + e);
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
                        s.pump();
                    } catch (RuntimeException e) {
                        s.close("pump failed: " + e);
                    }
                }
            });
        }
    }

    void heartbeat() {
        var hb = PrimaryMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setPrimaryLastSeq(log.lastSeq())
                .setCommitSeq(replication.commitSeq()).setEpoch(log.epoch())).build();
        sender.execute(() -> sessions.keySet().forEach(s -> s.send(hb)));
        wake();
    }

    int inSyncCount() {
        long now = System.nanoTime();
        int n = 0;
        for (Session s : sessions.keySet()) if (s.inSync(now)) n++;
        return n;
    }

    private void recomputeCommit() {
        int need = settings.acksNeeded();
        if (need == 0) return;
        var acks = new ArrayList<Long>();
        for (Session s : sessions.keySet()) acks.add(s.acked);
        if (acks.size() < need) return;
        long[] sorted = acks.stream().mapToLong(Long::longValue).sorted().toArray();
        replication.advanceCommit(sorted[sorted.length - need]); // the need-th highest acknowledgement
    }

    Map<String, long[]> progress() {
        long now = System.nanoTime();
        var out = new LinkedHashMap<String, long[]>();
        for (Session s : sessions.keySet()) out.put(s.replicaId, new long[] {s.acked, s.inSync(now) ? 1 : 0});
        return out;
    }

    void closeAll() {
        for (Session s : sessions.keySet()) {
            try {
                s.out.onError(Status.UNAVAILABLE.withDescription(replication.nodeId() + " is no longer primary")
                        .asRuntimeException());
            } catch (RuntimeException ignored) {
                // already closed
            }
            s.close("no longer primary");
        }
    }

}
