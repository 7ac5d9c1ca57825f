package io.limedb.node.coordinator;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.limedb.api.v1.ExecuteRequest;
import io.limedb.api.v1.ExecuteResponse;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.OpResult;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.netty.channel.EventLoop;
import io.limedb.node.net.Transport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One event loop's connection to one shard node. Requests submitted on the loop queue up while
 * earlier batches are in flight and leave together as one batch on a long-lived Pipeline stream,
 * so requests in flight together travel together and per-connection order is kept. Everything
 * here runs on the owning event loop: no locks, no thread hops (the channel uses the same loop).
 * The bytes of requests queued or in flight are bounded: beyond the bound, requests are refused
 * (BUSY) before anything is sent. Operations a shard sent back unrun because its reply was full
 * (REPLY_FULL) are sent again first, in the order they came back, ahead of everything still queued.
 */
final class ShardLink {
    private record Pending(Op op, int bytes, long epoch, long ringVersion, boolean replicaRead, CompletableFuture<OpResult> result) {}

    private record Batch(List<Pending> ops, long bytes, long sentNanos) {}

    private final String shardId;
    private final String address;
    private final EventLoop loop;
    private final ManagedChannel channel;
    private final ShardGrpc.ShardStub stub;
    private final long deadlineNanos;
    private final int maxInFlight;
    private final int maxBatchOps;
    private final long maxBatchBytes;
    private final long maxQueuedBytes;

    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final ArrayDeque<Pending> resent = new ArrayDeque<>(); // sent again: they leave before the queue
    private long queuedBytes; // of the requests in both queues
    private final java.util.LinkedHashMap<Long, Batch> inFlight = new java.util.LinkedHashMap<>(); // by id, oldest first
    private long nextId;
    private ClientCallStreamObserver<ExecuteRequest> stream;
    private Object streamGeneration;
    private boolean flushScheduled;
    private long lastBackoffReset;
    private long lastIdle;
    private long lastHeardNanos; // last answer on the current stream (or when it opened)
    private final ScheduledFuture<?> deadlineCheck;

    ShardLink(String shardId, String address, EventLoop loop, Router.LinkSettings settings) {
        this.shardId = shardId;
        this.address = address;
        this.loop = loop;
        long deadlineMs = settings.deadlineMs();
        this.deadlineNanos = TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        this.maxInFlight = settings.maxInFlight();
        this.maxBatchOps = settings.maxBatchOps();
        this.maxBatchBytes = settings.maxBatchBytes();
        this.maxQueuedBytes = settings.maxQueuedBytes();
        this.channel = NettyChannelBuilder.forTarget(address)
                .eventLoopGroup(loop)
                .channelType(Transport.clientChannel())
                .directExecutor()
                .usePlaintext()
                .maxInboundMessageSize(settings.maxMessageBytes())
                .keepAliveTime(30, TimeUnit.SECONDS)
                .build();
        this.stub = ShardGrpc.newStub(channel);
        long tick = Math.max(10, deadlineMs / 10);
        this.deadlineCheck = loop.scheduleAtFixedRate(this::checkDeadline, tick, tick, TimeUnit.MILLISECONDS);
    }

    String address() {
        return address;
    }

    ManagedChannel channel() {
        return channel;
    }

    /**
     * Queues an operation, or refuses it with BUSY when the bytes queued and in flight would pass
     * the limit (an operation on an idle link is always taken); must be called on this link's event loop.
     */
    void submit(Op op, long epoch, long ringVersion, boolean replicaRead, CompletableFuture<OpResult> result) {
        int bytes = op.getSerializedSize();
        long outstanding = queuedBytes;
        for (Batch b : inFlight.values()) outstanding += b.bytes(); // at most maxInFlight of them
        if (outstanding > 0 && outstanding + bytes > maxQueuedBytes) {
            result.completeExceptionally(new LimeException(ErrorCode.BUSY, "shard " + shardId + " (" + address
                    + ") is busy: " + outstanding + " bytes of requests already queued or in flight at this coordinator, "
                    + "limit " + maxQueuedBytes + " (rpc.max.queued.bytes); not sent, try again"));
            return;
        }
        queuedBytes += bytes;
        queue.add(new Pending(op, bytes, epoch, ringVersion, replicaRead, result));
        scheduleFlush();
    }

    /**
     * Queues an operation the shard sent back unrun (REPLY_FULL) to leave in the next batch, ahead of
     * the queue and after those sent back before it: taken whatever the bytes queued, as it had been
     * before; must be called on this link's event loop.
     */
    void resubmit(Op op, long epoch, long ringVersion, boolean replicaRead, CompletableFuture<OpResult> result) {
        int bytes = op.getSerializedSize();
        queuedBytes += bytes;
        resent.add(new Pending(op, bytes, epoch, ringVersion, replicaRead, result));
        scheduleFlush();
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(this::flush); // after this loop iteration's reads: gathers all of them
        }
    }

    private boolean waiting() {
        return !queue.isEmpty() || !resent.isEmpty();
    }

    private ArrayDeque<Pending> next() {
        return resent.isEmpty() ? queue : resent;
    }

    private void flush() {
        flushScheduled = false;
        while (waiting() && inFlight.size() < maxInFlight) {
            // Up to maxBatchOps operations and maxBatchBytes; a larger operation goes alone.
            var ops = new ArrayList<Pending>(Math.min(queue.size() + resent.size(), maxBatchOps));
            var req = ExecuteRequest.newBuilder();
            long epoch = 0;
            long ringVersion = 0;
            long bytes = 0;
            boolean replicaRead = true;
            while (waiting() && ops.size() < maxBatchOps
                    && (ops.isEmpty() || bytes + next().peek().bytes() <= maxBatchBytes)) {
                Pending p = next().poll();
                queuedBytes -= p.bytes();
                ops.add(p);
                req.addOps(p.op());
                bytes += p.bytes();
                epoch = Math.max(epoch, p.epoch());
                ringVersion = Math.max(ringVersion, p.ringVersion());
                replicaRead &= p.replicaRead();
            }
            long id = ++nextId;
            req.setEpoch(epoch).setRingVersion(ringVersion).setReplicaRead(replicaRead).setId(id);
            inFlight.put(id, new Batch(ops, bytes, System.nanoTime()));
            ensureStream();
            if (stream == null) return; // the stream failed as it opened; that failed the batch too
            stream.onNext(req.build());
        }
    }

    private void ensureStream() {
        if (stream != null) return;
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE
                && System.nanoTime() - lastBackoffReset > TimeUnit.MILLISECONDS.toNanos(250)) {
            lastBackoffReset = System.nanoTime();
            channel.resetConnectBackoff(); // a restarted shard is used again at once, not after backoff
        }
        Object generation = new Object();
        streamGeneration = generation;
        lastHeardNanos = System.nanoTime();
        stub.pipeline(new ClientResponseObserver<ExecuteRequest, ExecuteResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ExecuteRequest> requestStream) {
                stream = requestStream;
            }

            @Override
            public void onNext(ExecuteResponse response) {
                onLoop(() -> {
                    if (streamGeneration != generation) return;
                    lastHeardNanos = System.nanoTime();
                    complete(response);
                });
            }

            @Override
            public void onError(Throwable t) {
                onLoop(() -> { if (streamGeneration == generation) failStream(t); });
            }

            @Override
            public void onCompleted() {
                onLoop(() -> {
                    if (streamGeneration == generation) failStream(Status.UNAVAILABLE
                            .withDescription("shard closed the stream").asRuntimeException());
                });
            }
        });
    }

    private void onLoop(Runnable r) {
        if (loop.inEventLoop()) r.run();
        else loop.execute(r);
    }

    private void complete(ExecuteResponse response) {
        Batch batch = inFlight.remove(response.getId());
        if (batch == null) return;
        if (response.hasError()) {
            var error = LimeException.fromProto(response.getError());
            batch.ops().forEach(p -> p.result().completeExceptionally(error));
            if (waiting()) flush();
            return;
        }
        var results = response.getResultsList();
        for (int i = 0; i < batch.ops().size(); i++) {
            var f = batch.ops().get(i).result();
            if (i < results.size()) f.complete(results.get(i));
            else f.completeExceptionally(new LimeException(ErrorCode.INTERNAL, "shard " + shardId + " sent too few results"));
        }
        if (waiting()) flush();
    }

    private void failStream(Throwable t) {
        // The next stream re-resolves the address (a pod may have moved); at most once a second.
        if (stream != null && System.nanoTime() - lastIdle > TimeUnit.SECONDS.toNanos(1)) {
            lastIdle = System.nanoTime();
            channel.enterIdle();
        }
        stream = null;
        streamGeneration = null;
        LimeException error = translate(t);
        // A write that left on a stream that then broke may have been applied, unless the connection
        // never came up; reads are harmless either way.
        LimeException writeError = error.code().outcome() == ErrorCode.Outcome.UNKNOWN || neverConnected(t) ? error
                : new LimeException(ErrorCode.OUTCOME_UNKNOWN, error.getMessage()
                        + "; the request had been sent, so it may or may not have been applied");
        var failed = new ArrayList<>(inFlight.values());
        inFlight.clear();
        failed.forEach(b -> b.ops().forEach(p -> p.result().completeExceptionally(
                p.op().getOpCase() == Op.OpCase.GET ? error : writeError)));
        if (waiting()) scheduleFlush();
    }

    /**
     * Fails only the batches past the deadline (outcome unknown: they reached the shard or may have);
     * the stream stays up for the others unless the shard has said nothing at all for a whole deadline.
     */
    private void checkDeadline() {
        long now = System.nanoTime();
        Batch head = inFlight.isEmpty() ? null : inFlight.values().iterator().next();
        if (head == null || now - head.sentNanos() < deadlineNanos) return;
        var error = new LimeException(ErrorCode.DEADLINE_EXCEEDED, "shard " + shardId + " (" + address
                + ") did not answer within " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos)
                + " ms; the request may or may not have been applied");
        if (now - lastHeardNanos >= deadlineNanos) {
            var s = stream;
            failStream(error);
            if (s != null) s.cancel("deadline exceeded", null);
            return;
        }
        for (var it = inFlight.values().iterator(); it.hasNext(); ) {
            Batch b = it.next();
            if (now - b.sentNanos() < deadlineNanos) break; // oldest first
            it.remove();
            b.ops().forEach(p -> p.result().completeExceptionally(error));
        }
        if (waiting()) flush();
    }

    private static boolean neverConnected(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.ConnectException) return true;
        }
        return false;
    }

    private LimeException translate(Throwable t) {
        if (t instanceof LimeException le) return le;
        if (t instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return new LimeException(ErrorCode.DEADLINE_EXCEEDED, "shard " + shardId + " (" + address + ") timed out");
        }
        String why = t instanceof StatusRuntimeException sre
                ? sre.getStatus().getCode() + (sre.getStatus().getDescription() == null ? "" : ": " + sre.getStatus().getDescription())
                : t.toString();
        return new LimeException(ErrorCode.SHARD_UNAVAILABLE,
                "shard " + shardId + " (" + address + ") is unavailable: " + why);
    }

    /** Fails everything pending and closes the channel; on the loop. */
    void close() {
        deadlineCheck.cancel(false);
        var closed = new LimeException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shardId + " (" + address
                + ") left the topology");
        failStream(closed);
        Pending p;
        while ((p = next().poll()) != null) p.result().completeExceptionally(closed);
        channel.shutdownNow();
    }
}
