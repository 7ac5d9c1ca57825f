package io.limedb.node.shard;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.DeleteRequest;
import io.limedb.api.v1.DeleteResponse;
import io.limedb.api.v1.ExecuteRequest;
import io.limedb.api.v1.ExecuteResponse;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.GetResponse;
import io.limedb.api.v1.IncrementRequest;
import io.limedb.api.v1.IncrementResponse;
import io.limedb.api.v1.MultiGetRequest;
import io.limedb.api.v1.MultiGetResponse;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.PutResponse;
import io.limedb.api.v1.ScanChunk;
import io.limedb.api.v1.ScanRequest;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.api.v1.StatsRequest;
import io.limedb.api.v1.StatsResponse;
import io.limedb.api.v1.WriteBatchRequest;
import io.limedb.api.v1.WriteBatchResponse;
import io.limedb.core.ring.RingRange;
import io.limedb.node.metrics.NodeMetrics;
import java.util.function.Supplier;

/** The shard's gRPC front: converts, delegates to {@link ShardEngine}, maps errors to status codes. */
public final class ShardGrpcService extends ShardGrpc.ShardImplBase {
    private static final int SCAN_CHUNK = 512;

    private final ShardEngine engine;
    private final NodeMetrics metrics;

    public ShardGrpcService(ShardEngine engine, NodeMetrics metrics) {
        this.engine = engine;
        this.metrics = metrics;
    }

    @Override
    public void get(GetRequest req, StreamObserver<GetResponse> out) {
        unary("get", out, () -> engine.get(req.getKey().toByteArray()));
    }

    @Override
    public void put(PutRequest req, StreamObserver<PutResponse> out) {
        unary("put", out, () -> engine.put(req));
    }

    @Override
    public void delete(DeleteRequest req, StreamObserver<DeleteResponse> out) {
        unary("delete", out, () -> engine.delete(req.getKey().toByteArray()));
    }

    @Override
    public void increment(IncrementRequest req, StreamObserver<IncrementResponse> out) {
        unary("increment", out, () -> engine.increment(req.getKey().toByteArray(), req.getDelta()));
    }

    @Override
    public void multiGet(MultiGetRequest req, StreamObserver<MultiGetResponse> out) {
        unary("multi_get", out, () -> MultiGetResponse.newBuilder()
                .addAllValues(engine.multiGet(req.getKeysList().stream().map(b -> b.toByteArray()).toList())).build());
    }

    @Override
    public void writeBatch(WriteBatchRequest req, StreamObserver<WriteBatchResponse> out) {
        unary("write_batch", out, () -> engine.writeBatch(req.getOpsList()));
    }

    @Override
    public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
        unary("execute", out, () -> run(req));
    }

    @Override
    public StreamObserver<ExecuteRequest> pipeline(StreamObserver<ExecuteResponse> out) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ExecuteRequest req) {
                out.onNext(run(req));
            }

            @Override
            public void onError(Throwable t) {
                // The client went away; nothing is pending on our side.
            }

            @Override
            public void onCompleted() {
                out.onCompleted();
            }
        };
    }

    private ExecuteResponse run(ExecuteRequest req) {
        long start = System.nanoTime();
        var results = engine.executeAll(req.getOpsList());
        long perOp = (System.nanoTime() - start) / Math.max(1, results.size());
        for (int i = 0; i < results.size(); i++) {
            Op op = req.getOps(i);
            metrics.request("grpc", op.getOpCase().name().toLowerCase(java.util.Locale.ROOT), !results.get(i).hasError(), perOp);
        }
        return ExecuteResponse.newBuilder().addAllResults(results).build();
    }

    @Override
    public void scan(ScanRequest req, StreamObserver<ScanChunk> out) {
        var server = (ServerCallStreamObserver<ScanChunk>) out;
        try {
            engine.scan(new RingRange(req.getStartExclusive(), req.getEndInclusive()), req.getLimit(),
                    req.getKeysOnly(), SCAN_CHUNK, chunk -> {
                        if (server.isCancelled()) throw new IllegalStateException("scan cancelled by the client");
                        out.onNext(ScanChunk.newBuilder().addAllEntries(chunk).build());
                    });
            out.onCompleted();
        } catch (RuntimeException e) {
            out.onError(ShardEngine.translate(e).toStatus());
        }
    }

    @Override
    public void stats(StatsRequest req, StreamObserver<StatsResponse> out) {
        unary("stats", out, engine::stats);
    }

    private <T> void unary(String op, StreamObserver<T> out, Supplier<T> call) {
        long start = System.nanoTime();
        T result;
        try {
            result = call.get();
        } catch (RuntimeException e) {
            metrics.request("grpc", op, false, System.nanoTime() - start);
            out.onError(ShardEngine.translate(e).toStatus());
            return;
        }
        metrics.request("grpc", op, true, System.nanoTime() - start);
        out.onNext(result);
        out.onCompleted();
    }
}
