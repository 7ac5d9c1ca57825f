package io.limedb.node.shard;

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
import io.limedb.api.v1.OpResult;
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
import io.limedb.node.errors.LimeException;
import io.limedb.node.metrics.NodeMetrics;
import io.limedb.node.net.PacedStream;
import io.limedb.node.replication.ShardReplication;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The shard's gRPC front: converts, checks the batch may be served here (role, epoch), runs it on
 * {@link ShardEngine}, and answers once everything the batch saw is committed.
 */
public final class ShardGrpcService extends ShardGrpc.ShardImplBase {
    private static final int SCAN_CHUNK = 512;
    private static final long SCAN_CHUNK_BYTES = io.limedb.node.config.Limits.REPLICATION_CHUNK_BYTES;
    // Scans wait for slow clients, so they run here rather than on the event loops.
    private final ExecutorService scans = Executors.newCachedThreadPool(r -> {
        var t = new Thread(r, "shard-scan");
        t.setDaemon(true);
        return t;
    });

    private final ShardEngine engine;
    private final ShardReplication replication;
    private final io.limedb.node.storage.KeyValueStore store;
    private final NodeMetrics metrics;
    private final java.util.EnumMap<Op.OpCase, NodeMetrics.RequestTimer> timers = new java.util.EnumMap<>(Op.OpCase.class);
    // Writes while RocksDB holds them back (or fsyncs them), batches queued behind those, unary calls
    // and scans run here, never on the event loops that also answer Status and health: a busy shard
    // must not look dead. Reads and freely flowing writes of a Pipeline stream run on its event loop.
    private final java.util.concurrent.ExecutorService workers;
    private final io.micrometer.core.instrument.DistributionSummary batchOps;

    public ShardGrpcService(ShardEngine engine, NodeMetrics metrics) {
        this.engine = engine;
        this.replication = engine.replication();
        this.store = engine.store();
        this.metrics = metrics;
        this.batchOps = metrics.batchOps();
        for (Op.OpCase c : Op.OpCase.values()) timers.put(c, metrics.timer("grpc", c.name().toLowerCase(Locale.ROOT)));
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        var counter = new java.util.concurrent.atomic.AtomicInteger();
        this.workers = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            var t = new Thread(r, "shard-worker-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Stops the workers (after the server stopped taking calls). */
    public void close() {
        workers.shutdown();
    }

    @Override
    public void get(GetRequest req, StreamObserver<GetResponse> out) {
        single(Op.newBuilder().setGet(req).build(), out, OpResult::getGet);
    }

    @Override
    public void put(PutRequest req, StreamObserver<PutResponse> out) {
        single(Op.newBuilder().setPut(req).build(), out, OpResult::getPut);
    }

    @Override
    public void delete(DeleteRequest req, StreamObserver<DeleteResponse> out) {
        single(Op.newBuilder().setDelete(req).build(), out, OpResult::getDelete);
    }

    @Override
    public void increment(IncrementRequest req, StreamObserver<IncrementResponse> out) {
        single(Op.newBuilder().setIncrement(req).build(), out, OpResult::getIncrement);
    }

    /** Fails with TOO_LARGE rather than answer more than the reply budget (limits.reply.bytes). */
    @Override
    public void multiGet(MultiGetRequest req, StreamObserver<MultiGetResponse> out) {
        committed("multi_get", false, out, () -> MultiGetResponse.newBuilder()
                .addAllValues(engine.multiGet(req.getKeysList().stream().map(b -> b.toByteArray()).toList())).build());
    }

    @Override
    public void writeBatch(WriteBatchRequest req, StreamObserver<WriteBatchResponse> out) {
        committed("write_batch", true, out, () -> engine.writeBatch(req.getOpsList()));
    }

    @Override
    public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
        workers.execute(() -> run(req, false).whenComplete((r, t) -> {
            out.onNext(r);
            out.onCompleted();
        }));
    }

    @Override
    public StreamObserver<ExecuteRequest> pipeline(StreamObserver<ExecuteResponse> out) {
        // Batches run in the order received, each answered by id once what it saw is committed. A batch
        // runs on the event loop that read it when nothing of its stream waits for the workers and it
        // cannot block there (it only reads, or RocksDB takes writes freely): two thread hops fewer,
        // which is most of what a small batch costs (bench/README.md). Otherwise it goes to the workers,
        // one at a time per stream, and so do the batches after it until they have caught up.
        var inOrder = com.google.common.util.concurrent.MoreExecutors.newSequentialExecutor(workers);
        var queued = new java.util.concurrent.atomic.AtomicInteger(); // batches handed to the workers, not run yet
        return new StreamObserver<>() {
            @Override
            public void onNext(ExecuteRequest req) {
                if (queued.get() == 0 && mayRunInline(req)) {
                    answer(req, run(req, false));
                    return;
                }
                queued.incrementAndGet();
                inOrder.execute(() -> {
                    CompletableFuture<ExecuteResponse> result;
                    try {
                        result = run(req, false);
                    } finally {
                        queued.decrementAndGet();
                    }
                    answer(req, result);
                });
            }

            private void answer(ExecuteRequest req, CompletableFuture<ExecuteResponse> result) {
                result.thenAccept(r -> {
                    synchronized (out) { // answers complete on several threads; the stream takes one at a time
                        try {
                            out.onNext(r.toBuilder().setId(req.getId()).build());
                        } catch (RuntimeException ignored) {
                            // the coordinator went away
                        }
                    }
                });
            }

            @Override
            public void onError(Throwable t) {
                // The client went away; its pending answers have nowhere to go.
            }

            @Override
            public void onCompleted() {
                synchronized (out) {
                    out.onCompleted();
                }
            }
        };
    }

    /** Whether a batch may run on the event loop: reads only, or writes that cannot block (see {@link io.limedb.node.storage.KeyValueStore#writesMayBlock}). */
    private boolean mayRunInline(ExecuteRequest req) {
        for (Op op : req.getOpsList()) {
            if (op.getOpCase() != Op.OpCase.GET) return !store.writesMayBlock();
        }
        return true;
    }

    /**
     * Runs a batch; never fails: a refused batch is an answer with a batch error. Its answers stay within
     * the reply budget (see {@link ShardEngine#executeAll}), so the reply fits the coordinator's inbound limit.
     */
    private CompletableFuture<ExecuteResponse> run(ExecuteRequest req, boolean direct) {
        long start = System.nanoTime();
        batchOps.record(req.getOpsCount());
        List<OpResult> results;
        try {
            boolean writes = false, reads = false;
            for (Op op : req.getOpsList()) {
                // An answer that may come from a read alone (GET, DEL of an absent key, SET NX/XX whose
                // condition fails) needs the lease; an unconditional write is proven by its acknowledgements.
                switch (op.getOpCase()) {
                    case GET -> reads = true;
                    case PUT -> {
                        writes = true;
                        if (op.getPut().getCondition() != io.limedb.api.v1.PutCondition.ALWAYS) reads = true;
                    }
                    case DELETE -> {
                        writes = true;
                        reads = true;
                    }
                    default -> writes = true;
                }
            }
            if (direct) replication.checkDirect(reads);
            else replication.checkBatch(req.getEpoch(), req.getReplicaRead(), writes, reads);
            results = engine.executeAll(req.getOpsList());
        } catch (RuntimeException e) {
            metrics.error("grpc", LimeException.of(e).code().name());
            return CompletableFuture.completedFuture(
                    ExecuteResponse.newBuilder().setError(ShardEngine.translate(e).toProto()).build());
        }
        var response = ExecuteResponse.newBuilder().addAllResults(results).build();
        // Wait for the commit of every uncommitted write this batch read or made; failed ops saw nothing.
        long waitFor = 0;
        if (!req.getReplicaRead() && replication.hasPending()) { // standalone and idle shards skip this
            for (int i = 0; i < results.size(); i++) {
                if (!results.get(i).hasError()) waitFor = Math.max(waitFor, replication.pendingSeq(storageKey(req.getOps(i))));
            }
        }
        CompletableFuture<Void> commit = replication.awaitCommit(waitFor);
        return commit.handle((v, t) -> {
            long perOp = (System.nanoTime() - start) / Math.max(1, results.size());
            for (int i = 0; i < results.size(); i++) {
                var r = results.get(i);
                timers.get(req.getOps(i).getOpCase()).record(t == null && !r.hasError(), perOp);
                if (r.hasError()) metrics.error("grpc", r.getError().getCode()); // REPLY_FULL shows how often replies fill up
            }
            return t == null ? response
                    : ExecuteResponse.newBuilder().setError(LimeException.of(t).toProto()).build();
        });
    }

    private static byte[] storageKey(Op op) {
        return io.limedb.node.storage.StorageKeys.encode(ShardEngine.keyOf(op).toByteArray());
    }

    private <T> void single(Op op, StreamObserver<T> out, Function<OpResult, T> pick) {
        workers.execute(() -> run(ExecuteRequest.newBuilder().addOps(op).build(), true).whenComplete((r, t) -> {
            if (r.hasError()) {
                out.onError(LimeException.fromProto(r.getError()).toStatus());
            } else if (r.getResults(0).hasError()) {
                out.onError(LimeException.fromProto(r.getResults(0).getError()).toStatus());
            } else {
                out.onNext(pick.apply(r.getResults(0)));
                out.onCompleted();
            }
        }));
    }

    private <T> void committed(String op, boolean writes, StreamObserver<T> out, Supplier<T> call) {
        workers.execute(() -> committedNow(op, writes, out, call));
    }

    private <T> void committedNow(String op, boolean writes, StreamObserver<T> out, Supplier<T> call) {
        long start = System.nanoTime();
        T result;
        try {
            replication.checkDirect(!writes);
            result = call.get();
        } catch (RuntimeException e) {
            metrics.request("grpc", op, false, System.nanoTime() - start);
            out.onError(ShardEngine.translate(e).toStatus());
            return;
        }
        replication.awaitCommit(replication.visibleSeq()).whenComplete((v, t) -> {
            metrics.request("grpc", op, t == null, System.nanoTime() - start);
            if (t != null) {
                out.onError(LimeException.of(t).toStatus());
            } else {
                out.onNext(result);
                out.onCompleted();
            }
        });
    }

    /**
     * Streams a ring range in chunks of at most {@link #SCAN_CHUNK} entries and about
     * {@link #SCAN_CHUNK_BYTES}, off the event loop, each sent when the client can take it; stops
     * when the client cancels. A client must accept messages of SCAN_CHUNK_BYTES plus one largest entry.
     */
    @Override
    public void scan(ScanRequest req, StreamObserver<ScanChunk> out) {
        var paced = new PacedStream<>(out);
        scans.execute(() -> {
            try {
                // Served like a read on the primary: under its lease, and never showing a value before
                // it is committed (each chunk waits for the commit of the pending writes it saw).
                boolean checked = !req.getReplicaRead();
                if (checked) replication.checkDirect(true);
                engine.scan(new RingRange(req.getStartExclusive(), req.getEndInclusive()), req.getLimit(),
                        req.getKeysOnly(), SCAN_CHUNK, SCAN_CHUNK_BYTES, chunk -> {
                            if (checked) {
                                awaitCommitted(chunk);
                                replication.checkDirect(true);
                            }
                            paced.send(ScanChunk.newBuilder().addAllEntries(chunk).build());
                        });
                paced.complete();
            } catch (PacedStream.CancelledException e) {
                // the client went away: stop reading
            } catch (RuntimeException e) {
                paced.fail(ShardEngine.translate(e).toStatus());
            }
        });
    }

    /** Blocks (on a scan thread) until every write pending on these entries' keys is committed. */
    private void awaitCommitted(List<io.limedb.api.v1.KeyValue> chunk) {
        if (!replication.hasPending()) return;
        long waitFor = 0;
        for (var kv : chunk) {
            waitFor = Math.max(waitFor, replication.pendingSeq(io.limedb.node.storage.StorageKeys.encode(kv.getKey().toByteArray())));
        }
        try {
            replication.awaitCommit(waitFor).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw LimeException.of(e);
        }
    }

    @Override
    public void stats(StatsRequest req, StreamObserver<StatsResponse> out) {
        workers.execute(() -> {
            try {
                out.onNext(engine.stats());
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(ShardEngine.translate(e).toStatus());
            }
        });
    }
}
