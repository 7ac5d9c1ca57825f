package io.limedb.node.reshard;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.ChangesRequest;
import io.limedb.api.v1.ChangesResponse;
import io.limedb.api.v1.CopyChunk;
import io.limedb.api.v1.CopyRequest;
import io.limedb.api.v1.LogRecord;
import io.limedb.api.v1.Mutation;
import io.limedb.api.v1.PullRequest;
import io.limedb.api.v1.PullResponse;
import io.limedb.api.v1.RangesGrpc;
import io.limedb.api.v1.SetOwnershipRequest;
import io.limedb.api.v1.SetOwnershipResponse;
import io.limedb.core.ring.RangeSet;
import io.limedb.core.ring.RingRange;
import io.limedb.node.config.Limits;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.net.PacedStream;
import io.limedb.node.net.Unary;
import io.limedb.node.replication.ShardReplication;
import io.limedb.node.storage.KeyValueStore.Space;
import io.limedb.node.storage.StorageKeys;
import java.util.ArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The shard's side of resharding. As a source: a consistent copy of ranges ({@code Copy}) and the
 * writes to them since ({@code Changes}), both only from the primary of the epoch asked. As a target:
 * {@code Pull} runs a {@link RangePuller}. On both: {@code SetOwnership}, a replicated log record.
 */
public final class RangesGrpcService extends RangesGrpc.RangesImplBase {
    private static final int CHANGES_RECORDS = 4096;

    private final ShardReplication replication;
    private final RangePuller puller;
    private final ExecutorService slow = Executors.newCachedThreadPool(r -> {
        var t = new Thread(r, "ranges");
        t.setDaemon(true);
        return t;
    });

    public RangesGrpcService(ShardReplication replication, int maxMessageBytes) {
        this.replication = replication;
        this.puller = new RangePuller(replication, maxMessageBytes);
    }

    @Override
    public void setOwnership(SetOwnershipRequest req, StreamObserver<SetOwnershipResponse> out) {
        slow.execute(() -> Unary.answer(out, () -> {
            if (req.getDropCount() > 0) puller.stopOverlapping(RangeSet.of(Owned.fromProto(req.getDropList())));
            long seq = replication.setOwnership(req.getEpoch(), req.getOwnership(), req.getDropList());
            var owned = replication.log().owned();
            return SetOwnershipResponse.newBuilder().setRingVersion(owned == null ? 0 : owned.ringVersion())
                    .setLastSeq(Math.max(seq, replication.log().lastSeq())).build();
        }));
    }

    @Override
    public void pull(PullRequest req, StreamObserver<PullResponse> out) {
        slow.execute(() -> Unary.answer(out, () -> puller.pull(req)));
    }

    @Override
    public void copy(CopyRequest req, StreamObserver<CopyChunk> out) {
        var paced = new PacedStream<>(out);
        slow.execute(() -> {
            try {
                replication.requirePrimaryAt(req.getEpoch());
                var ranges = RangeSet.of(Owned.fromProto(req.getRangesList()));
                try (var view = replication.log().view()) {
                    var snap = view.data();
                    long seq = view.seq();
                    var chunk = new ArrayList<Mutation>();
                    long[] bytes = {0};
                    for (RingRange r : ranges.ranges()) {
                        for (byte[][] iv : StorageKeys.intervals(r)) {
                            snap.scan(Space.DATA, iv[0], iv[1], (k, v) -> {
                                chunk.add(Mutation.newBuilder().setKey(ByteString.copyFrom(k)).setValue(ByteString.copyFrom(v)).build());
                                bytes[0] += k.length + v.length + 16;
                                if (bytes[0] >= Limits.REPLICATION_CHUNK_BYTES) {
                                    paced.send(CopyChunk.newBuilder().setSeq(seq).addAllEntries(chunk).build());
                                    chunk.clear();
                                    bytes[0] = 0;
                                }
                                return true;
                            });
                        }
                    }
                    paced.send(CopyChunk.newBuilder().setSeq(seq).addAllEntries(chunk).setLast(true).build());
                }
                paced.complete();
            } catch (PacedStream.CancelledException e) {
                // the target went away
            } catch (RuntimeException e) {
                paced.fail(LimeException.of(e).toStatus());
            }
        });
    }

    @Override
    public void changes(ChangesRequest req, StreamObserver<ChangesResponse> out) {
        slow.execute(() -> Unary.answer(out, () -> {
            replication.requirePrimaryAt(req.getEpoch());
            var log = replication.log();
            long from = req.getFromSeq();
            if (from < log.firstSeq()) {
                throw new LimeException(ErrorCode.INVALID_ARGUMENT, replication.nodeId() + ": seq " + from
                        + " is no longer in the log (it starts at " + log.firstSeq() + "); copy the ranges again");
            }
            var ranges = RangeSet.of(Owned.fromProto(req.getRangesList()));
            var b = ChangesResponse.newBuilder();
            long next = from;
            long bytes = 0;
            for (LogRecord r : log.read(from, CHANGES_RECORDS, Limits.REPLICATION_CHUNK_BYTES)) {
                for (var m : r.getMutationsList()) {
                    if (ranges.contains(StorageKeys.position(m.getKey().toByteArray()))) {
                        b.addMutations(m);
                        bytes += m.getSerializedSize();
                    }
                }
                next = r.getSeq() + 1;
                if (bytes >= Limits.REPLICATION_CHUNK_BYTES) break;
            }
            return b.setNextSeq(next).setLastSeq(log.lastSeq()).build();
        }));
    }

}
