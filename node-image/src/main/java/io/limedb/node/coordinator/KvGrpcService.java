package io.limedb.node.coordinator;

import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.DeleteRequest;
import io.limedb.api.v1.DeleteResponse;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.GetResponse;
import io.limedb.api.v1.IncrementRequest;
import io.limedb.api.v1.IncrementResponse;
import io.limedb.api.v1.KVGrpc;
import io.limedb.api.v1.MultiGetRequest;
import io.limedb.api.v1.MultiGetResponse;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.PutResponse;
import io.limedb.api.v1.WriteBatchRequest;
import io.limedb.api.v1.WriteBatchResponse;
import io.limedb.api.v1.WriteOp;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.metrics.NodeMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** The coordinator's client-facing gRPC service; thin: converts and calls the {@link Coordinator}. */
public final class KvGrpcService extends KVGrpc.KVImplBase {
    private final Coordinator coordinator;
    private final NodeMetrics metrics;

    public KvGrpcService(Coordinator coordinator, NodeMetrics metrics) {
        this.coordinator = coordinator;
        this.metrics = metrics;
    }

    @Override
    public void get(GetRequest req, StreamObserver<GetResponse> out) {
        reply("get", out, () -> coordinator.get(req.getKey().toByteArray()).thenApply(Coordinator::found));
    }

    @Override
    public void put(PutRequest req, StreamObserver<PutResponse> out) {
        reply("put", out, () -> coordinator.put(req).thenApply(ok -> PutResponse.newBuilder().setApplied(ok).build()));
    }

    @Override
    public void delete(DeleteRequest req, StreamObserver<DeleteResponse> out) {
        reply("delete", out, () -> coordinator.delete(req.getKey().toByteArray())
                .thenApply(e -> DeleteResponse.newBuilder().setExisted(e).build()));
    }

    @Override
    public void increment(IncrementRequest req, StreamObserver<IncrementResponse> out) {
        reply("increment", out, () -> coordinator.increment(req.getKey().toByteArray(), req.getDelta())
                .thenApply(v -> IncrementResponse.newBuilder().setValue(v).build()));
    }

    @Override
    public void multiGet(MultiGetRequest req, StreamObserver<MultiGetResponse> out) {
        reply("multi_get", out, () -> coordinator.multiGet(req.getKeysList().stream().map(b -> b.toByteArray()).toList())
                .thenApply(vs -> MultiGetResponse.newBuilder().addAllValues(vs.stream().map(Coordinator::found).toList()).build()));
    }

    @Override
    public void writeBatch(WriteBatchRequest req, StreamObserver<WriteBatchResponse> out) {
        reply("write_batch", out, () -> {
            var puts = new ArrayList<PutRequest>();
            var deletes = new ArrayList<byte[]>();
            for (WriteOp op : req.getOpsList()) {
                switch (op.getOpCase()) {
                    case PUT -> puts.add(op.getPut());
                    case DELETE -> deletes.add(op.getDelete().getKey().toByteArray());
                    case OP_NOT_SET -> throw new LimeException(ErrorCode.INVALID_ARGUMENT, "empty write operation");
                }
            }
            return coordinator.multiPut(puts).thenCombine(
                    deletes.isEmpty() ? CompletableFuture.completedFuture(0L) : coordinator.deleteMany(deletes),
                    (p, d) -> WriteBatchResponse.newBuilder().setApplied(p).setDeleted((int) (long) d).build());
        });
    }

    private <T> void reply(String op, StreamObserver<T> out, Supplier<CompletableFuture<T>> call) {
        long start = System.nanoTime();
        CompletableFuture<T> f;
        try {
            f = call.get();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((r, t) -> {
            metrics.request("grpc", op, t == null, System.nanoTime() - start);
            if (t != null) {
                out.onError(LimeException.of(t).toStatus());
            } else {
                out.onNext(r);
                out.onCompleted();
            }
        });
    }

}
