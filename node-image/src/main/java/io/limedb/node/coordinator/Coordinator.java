package io.limedb.node.coordinator;

import com.google.protobuf.ByteString;
import io.limedb.api.v1.DeleteRequest;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.GetResponse;
import io.limedb.api.v1.IncrementRequest;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.OpResult;
import io.limedb.api.v1.PutRequest;
import io.limedb.node.config.Limits;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator's one request path: REST, RESP and gRPC all call these methods. Limits are checked
 * here, before anything leaves the process; each key goes to the shard that owns it, and a multi-key
 * request fans out to all its shards at once.
 */
public final class Coordinator {
    private final Router router;
    private final Limits limits;

    /**
     * @param retryBudgetMs how long a request certainly not applied is retried while a failover settles:
     *                      a lost primary being replaced, a new primary waiting out its predecessor's lease
     */
    public Coordinator(Router router, Limits limits, long retryBudgetMs) {
        this.retryBudgetMs = retryBudgetMs;
        this.router = router;
        this.limits = limits;
    }

    public Router router() {
        return router;
    }

    public Limits limits() {
        return limits;
    }

    /** The value, or null when the key is absent. */
    public CompletableFuture<byte[]> get(byte[] key) {
        limits.checkKey(key.length);
        return send(key, Op.newBuilder().setGet(GetRequest.newBuilder().setKey(ByteString.copyFrom(key))).build())
                .thenApply(r -> r.getGet().getFound() ? r.getGet().getValue().toByteArray() : null);
    }

    /** True when written; false when the NX/XX condition did not hold. */
    public CompletableFuture<Boolean> put(PutRequest put) {
        limits.checkKey(put.getKey().size());
        limits.checkValue(put.getValue().size());
        return send(put.getKey().toByteArray(), Op.newBuilder().setPut(put).build())
                .thenApply(r -> r.getPut().getApplied());
    }

    /** True when the key existed. */
    public CompletableFuture<Boolean> delete(byte[] key) {
        limits.checkKey(key.length);
        return send(key, Op.newBuilder().setDelete(DeleteRequest.newBuilder().setKey(ByteString.copyFrom(key))).build())
                .thenApply(r -> r.getDelete().getExisted());
    }

    public CompletableFuture<Long> increment(byte[] key, long delta) {
        limits.checkKey(key.length);
        return send(key, Op.newBuilder().setIncrement(
                        IncrementRequest.newBuilder().setKey(ByteString.copyFrom(key)).setDelta(delta)).build())
                .thenApply(r -> r.getIncrement().getValue());
    }

    /** Values in key order, null for absent keys. Fails if any owning shard fails. */
    public CompletableFuture<List<byte[]>> multiGet(List<byte[]> keys) {
        limits.checkCount(keys.size());
        keys.forEach(k -> limits.checkKey(k.length));
        return all(keys.stream().map(this::get).toList());
    }

    /** Writes every pair (atomic per shard only: a failure can leave some pairs written). */
    public CompletableFuture<Integer> multiPut(List<PutRequest> puts) {
        limits.checkCount(puts.size());
        puts.forEach(p -> {
            limits.checkKey(p.getKey().size());
            limits.checkValue(p.getValue().size());
        });
        return all(puts.stream().map(this::put).toList()).thenApply(List::size);
    }

    /** How many of the keys existed. */
    public CompletableFuture<Long> deleteMany(List<byte[]> keys) {
        limits.checkCount(keys.size());
        keys.forEach(k -> limits.checkKey(k.length));
        return all(keys.stream().map(this::delete).toList())
                .thenApply(l -> l.stream().filter(Boolean::booleanValue).count());
    }

    /** How many of the keys are present (a key given twice counts twice, as in Redis). */
    public CompletableFuture<Long> countExisting(List<byte[]> keys) {
        limits.checkCount(keys.size());
        return multiGet(keys).thenApply(l -> l.stream().filter(v -> v != null).count());
    }

    /** The operation's result; a per-operation error completes it exceptionally, as a refused batch does. */
    private CompletableFuture<OpResult> send(byte[] key, Op op) {
        return attempt(key, op, System.nanoTime(), 0);
    }

    /**
     * Retries only what was certainly not applied: after a topology refresh that moved the key's
     * primary at once, or, while a failover is still settling (not primary, stale epoch, a new primary
     * waiting out the old lease), after a short pause, within the RPC deadline. Anything that may have
     * been applied goes back to the client as "outcome unknown", so nothing is ever applied twice.
     */
    private CompletableFuture<OpResult> attempt(byte[] key, Op op, long startNanos, int n) {
        return answer(router.submit(key, op), key, op, startNanos, n);
    }

    /**
     * An operation the shard did not run because the batch's reply was full (REPLY_FULL) is sent again at
     * once, ahead of the link's queue, as often as it takes: every batch answers at least its first GET
     * and those sent again leave in order, so each gets its turn, alone in a batch if need be.
     */
    private CompletableFuture<OpResult> answer(CompletableFuture<OpResult> sent, byte[] key, Op op, long startNanos, int n) {
        return sent.thenApply(Coordinator::ok).exceptionallyCompose(t -> {
            var e = LimeException.of(t);
            if (e.code() == ErrorCode.REPLY_FULL) return answer(router.resubmit(key, op), key, op, startNanos, n);
            if (!e.code().retryable() || e.code().outcome() != ErrorCode.Outcome.NOT_APPLIED || n >= MAX_RETRIES) {
                return CompletableFuture.failedFuture(e);
            }
            boolean movable = e.code() == ErrorCode.NOT_PRIMARY || e.code() == ErrorCode.STALE_EPOCH
                    || e.code() == ErrorCode.SHARD_UNAVAILABLE || e.code() == ErrorCode.MOVED;
            if (!movable) return retryLater(key, op, startNanos, n, e);
            return router.refresh().thenCompose(moved -> moved ? attempt(key, op, startNanos, n + 1)
                    : retryLater(key, op, startNanos, n, e));
        });
    }

    private CompletableFuture<OpResult> retryLater(byte[] key, Op op, long startNanos, int n, LimeException e) {
        // An unreachable primary is worth waiting for only where a replica can replace it.
        // A moved key waits for its new owner's ring version to be published (a move's short write hold).
        boolean settling = e.code() == ErrorCode.NOT_PRIMARY || e.code() == ErrorCode.STALE_EPOCH
                || e.code() == ErrorCode.NO_LEASE || e.code() == ErrorCode.MOVED
                || (e.code() == ErrorCode.SHARD_UNAVAILABLE && router.replicated(key));
        long delayMs = Math.min(25L << Math.min(n, 4), 400);
        long elapsedMs = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        if (!settling || elapsedMs + delayMs > Math.min(retryBudgetMs, router.deadlineMs())) {
            return CompletableFuture.failedFuture(e);
        }
        return router.later(key, delayMs).thenCompose(v -> attempt(key, op, startNanos, n + 1));
    }

    private static final int MAX_RETRIES = 24;
    private final long retryBudgetMs;

    /** The result, or its error thrown, so that retries see batch and per-operation errors alike. */
    private static OpResult ok(OpResult r) {
        if (r.hasError()) throw LimeException.fromProto(r.getError());
        return r;
    }

    private static <T> CompletableFuture<List<T>> all(List<CompletableFuture<T>> futures) {
        return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).thenApply(v -> {
            var out = new ArrayList<T>(futures.size());
            futures.forEach(f -> out.add(f.join()));
            return out;
        });
    }

    static GetResponse found(byte[] v) {
        return v == null ? GetResponse.getDefaultInstance()
                : GetResponse.newBuilder().setFound(true).setValue(ByteString.copyFrom(v)).build();
    }
}
