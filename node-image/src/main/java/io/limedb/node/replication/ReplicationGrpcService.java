package io.limedb.node.replication;

import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.FetchKeysRequest;
import io.limedb.api.v1.FetchKeysResponse;
import io.limedb.api.v1.FollowRequest;
import io.limedb.api.v1.Mutation;
import io.limedb.api.v1.PrimaryMessage;
import io.limedb.api.v1.PromoteRequest;
import io.limedb.api.v1.ReplicaMessage;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.RoleResponse;
import io.limedb.api.v1.SnapshotChunk;
import io.limedb.api.v1.SnapshotRequest;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.core.topology.Role;
import io.limedb.node.config.Limits;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.net.PacedStream;
import io.limedb.node.net.Unary;
import io.limedb.node.storage.KeyValueStore.Space;
import java.util.ArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Roles, status and the replication streams over gRPC; thin: delegates to {@link ShardReplication}. */
public final class ReplicationGrpcService extends ReplicationGrpc.ReplicationImplBase {
    private final ShardReplication replication;
    private final ExecutorService slow = Executors.newCachedThreadPool(r -> {
        var t = new Thread(r, "replication-admin");
        t.setDaemon(true);
        return t;
    });

    public ReplicationGrpcService(ShardReplication replication) {
        this.replication = replication;
    }

    @Override
    public void status(StatusRequest req, StreamObserver<StatusResponse> out) {
        Unary.answer(out, replication::status);
    }

    @Override
    public void promote(PromoteRequest req, StreamObserver<RoleResponse> out) {
        // Off the event loop: persisting the epoch is an fsync.
        slow.execute(() -> Unary.answer(out, () -> RoleResponse.newBuilder().setStatus(replication.promote(req.getEpoch())).build()));
    }

    @Override
    public void follow(FollowRequest req, StreamObserver<RoleResponse> out) {
        slow.execute(() -> Unary.answer(out, () -> RoleResponse.newBuilder()
                .setStatus(replication.follow(req.getPrimaryAddress(), req.getEpoch())).build()));
    }

    @Override
    public void fence(io.limedb.api.v1.FenceRequest req, StreamObserver<RoleResponse> out) {
        slow.execute(() -> Unary.answer(out, () -> RoleResponse.newBuilder().setStatus(replication.fence(req.getEpoch())).build()));
    }

    @Override
    public StreamObserver<ReplicaMessage> replicate(StreamObserver<PrimaryMessage> out) {
        return replication.sessions().open(out);
    }

    /**
     * The current value of each key asked, or a delete when it is absent, for a prefix of the keys in
     * their order: at most {@link Limits#REPLICATION_CHUNK_BYTES} of entries, at least one. The replica
     * asks again for the keys left over.
     */
    @Override
    public void fetchKeys(FetchKeysRequest req, StreamObserver<FetchKeysResponse> out) {
        slow.execute(() -> Unary.answer(out, () -> {
            requirePrimary(req.getEpoch());
            var b = FetchKeysResponse.newBuilder().setLastSeq(replication.log().lastSeq());
            long bytes = 0;
            for (var k : req.getKeysList()) {
                byte[] v = replication.store().get(k.toByteArray());
                var m = Mutation.newBuilder().setKey(k);
                if (v == null) m.setDelete(true);
                else m.setValue(com.google.protobuf.ByteString.copyFrom(v));
                var entry = m.build();
                bytes += entry.getSerializedSize() + 8;
                if (bytes > Limits.REPLICATION_CHUNK_BYTES && b.getEntriesCount() > 0) break;
                b.addEntries(entry);
            }
            return b.build();
        }));
    }

    /**
     * Streams a consistent view of the data in chunks of about {@link Limits#REPLICATION_CHUNK_BYTES}
     * (a larger entry goes alone), each sent only when the replica can take it, on a thread that may
     * wait; stops when the replica cancels.
     */
    @Override
    public void snapshot(SnapshotRequest req, StreamObserver<SnapshotChunk> out) {
        var paced = new PacedStream<>(out);
        slow.execute(() -> {
            try {
                requirePrimary(req.getEpoch());
                var log = replication.log();
                try (var view = log.view()) {
                    var snap = view.data();
                    long seq = view.seq(), seqEpoch = view.seqEpoch();
                    var owned = view.owned();
                    var chunk = new ArrayList<Mutation>();
                    long[] bytes = {0};
                    snap.scan(Space.DATA, null, null, (k, v) -> {
                        chunk.add(Mutation.newBuilder().setKey(com.google.protobuf.ByteString.copyFrom(k))
                                .setValue(com.google.protobuf.ByteString.copyFrom(v)).build());
                        bytes[0] += k.length + v.length + 16;
                        if (bytes[0] >= Limits.REPLICATION_CHUNK_BYTES) {
                            paced.send(SnapshotChunk.newBuilder().setSeq(seq).setSeqEpoch(seqEpoch).addAllEntries(chunk).build());
                            chunk.clear();
                            bytes[0] = 0;
                        }
                        return true;
                    });
                    var lastChunk = SnapshotChunk.newBuilder().setSeq(seq).setSeqEpoch(seqEpoch).addAllEntries(chunk)
                            .setLast(true).addAllHistory(log.history());
                    if (owned != null) lastChunk.setOwnership(owned.toProto());
                    paced.send(lastChunk.build());
                }
                paced.complete();
            } catch (PacedStream.CancelledException e) {
                // the replica went away (or gave up): the view is released, nothing more to send
            } catch (RuntimeException e) {
                paced.fail(LimeException.of(e).toStatus());
            }
        });
    }

    private void requirePrimary(long epoch) {
        if (replication.role() != Role.PRIMARY || epoch < replication.log().epoch()) {
            throw new LimeException(ErrorCode.NOT_PRIMARY, replication.nodeId() + " is not the primary at epoch " + epoch);
        }
    }

}
