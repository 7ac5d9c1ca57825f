package io.limedb.node.fault;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.IncrementRequest;
import io.limedb.api.v1.KVGrpc;
import io.limedb.api.v1.MultiGetRequest;
import io.limedb.api.v1.PutRequest;
import io.limedb.testkit.history.History;
import io.limedb.testkit.history.HistoryRecorder;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Clients of a fault test, through the coordinator's gRPC API: each inserts keys of its own (the set
 * workload) and writes and reads a few shared registers (the linearizability workload); a few more
 * increment a few shared counters. Every operation is recorded with its outcome: ok, fail (the status
 * code says it was not applied) or unknown.
 */
final class Workload implements AutoCloseable {
    static final int COUNTER_CLIENTS = 3;
    static final int COUNTERS = 3;
    /** Longer than the coordinator's own deadline (rpc.deadline.ms, 3 s): clients hear the coordinator's verdict. */
    private static final long DEADLINE_MS = 4000;
    private static final int READ_BACK_BATCH = 500;

    private final ManagedChannel channel;
    private final int clients;
    private final int registers;
    private final boolean setsOnly;
    final HistoryRecorder sets = new HistoryRecorder();
    final HistoryRecorder regs = new HistoryRecorder();
    /** Increments, each a write of its delta to the counter's key. */
    final HistoryRecorder counters = new HistoryRecorder();
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private volatile long startNanos;
    private volatile long stopNanos;

    Workload(int coordinatorGrpcPort, int clients, int registers, boolean setsOnly) {
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", coordinatorGrpcPort).usePlaintext().build();
        this.clients = clients;
        this.registers = registers;
        this.setsOnly = setsOnly;
    }

    static String register(int i) {
        return "reg:" + i;
    }

    void start() {
        startNanos = System.nanoTime();
        running.set(true);
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().name("client-" + c).start(() -> run(client)));
        }
        for (int c = clients; c < clients + COUNTER_CLIENTS; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().name("counter-client-" + c).start(() -> runCounter(client)));
        }
    }

    void stop() throws InterruptedException {
        if (running.getAndSet(false)) stopNanos = System.nanoTime();
        for (Thread t : threads) t.join(10_000);
    }

    long startNanos() {
        return startNanos;
    }

    /** When the clients were told to stop; now if they are still running. */
    long stopNanos() {
        return running.get() || stopNanos == 0 ? System.nanoTime() : stopNanos;
    }

    List<History> histories() {
        return List.of(sets.snapshot(), regs.snapshot(), counters.snapshot());
    }

    private void run(int client) {
        var kv = KVGrpc.newBlockingStub(channel);
        var rnd = ThreadLocalRandom.current();
        long n = 0;
        while (running.get()) {
            int dice = setsOnly ? 0 : rnd.nextInt(4);
            if (dice <= 1) {
                String key = "set:" + client + ":" + (n++);
                write(kv, sets.write(client, key, "v" + n), key, "v" + n);
            } else if (dice == 2) {
                String key = register(rnd.nextInt(registers));
                String value = client + "." + (n++);
                write(kv, regs.write(client, key, value), key, value);
            } else {
                String key = register(rnd.nextInt(registers));
                var p = regs.read(client, key);
                try {
                    var r = kv.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS).get(GetRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build());
                    p.ok(r.getFound() ? r.getValue().toStringUtf8() : null);
                } catch (StatusRuntimeException e) {
                    p.fail(); // a read that returned nothing tells nothing
                }
            }
            if (!pause(1)) return;
        }
    }

    private void runCounter(int client) {
        var kv = KVGrpc.newBlockingStub(channel);
        var rnd = ThreadLocalRandom.current();
        while (running.get()) {
            String key = "ctr:" + rnd.nextInt(COUNTERS);
            var p = counters.write(client, key, "1");
            try {
                kv.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS).increment(IncrementRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(key)).setDelta(1).build());
                p.ok();
            } catch (StatusRuntimeException e) {
                if (definitelyNotApplied(e)) p.fail();
                else p.unknown();
            }
            if (!pause(2)) return;
        }
    }

    private static boolean pause(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void write(KVGrpc.KVBlockingStub kv, HistoryRecorder.Pending p, String key, String value) {
        try {
            kv.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS).put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                    .setValue(ByteString.copyFromUtf8(value)).build());
            p.ok();
        } catch (StatusRuntimeException e) {
            if (definitelyNotApplied(e)) p.fail();
            else p.unknown();
        }
    }

    /**
     * Whether an error promises the request was not applied, by its status code alone (see
     * {@code ErrorCode}): UNKNOWN, DEADLINE_EXCEEDED (the server's or this client's deadline) and
     * INTERNAL mean the outcome is unknown; every other code means not applied.
     */
    static boolean definitelyNotApplied(StatusRuntimeException e) {
        // Only LimeDB's own answers (they carry the limedb-error trailer) can promise "not applied": the
        // client library's UNAVAILABLE for a connection that broke mid-call (a coordinator killed) cannot.
        var t = io.grpc.Status.trailersFromThrowable(e);
        if (t == null || !t.containsKey(io.limedb.node.errors.LimeException.ERROR_TRAILER)) return false;
        return definitelyNotApplied(e.getStatus().getCode());
    }

    static boolean definitelyNotApplied(Status.Code code) {
        return switch (code) {
            case OK -> throw new IllegalArgumentException("OK is not an error");
            case UNKNOWN, DEADLINE_EXCEEDED, INTERNAL -> false;
            default -> true;
        };
    }

    /** Every key the set workload tried, read back (retrying until the cluster answers). */
    Map<String, String> readBackSets(long timeoutMs) throws InterruptedException {
        var keys = new ArrayList<String>();
        for (Operation op : sets.snapshot().operations()) keys.add(op.key());
        return readBack(keys, timeoutMs);
    }

    /** Each counter's value (0 when absent), read back. */
    Map<String, Long> readBackCounters(long timeoutMs) throws InterruptedException {
        var keys = new ArrayList<String>();
        for (int i = 0; i < COUNTERS; i++) keys.add("ctr:" + i);
        var out = new HashMap<String, Long>();
        readBack(keys, timeoutMs).forEach((k, v) -> out.put(k, Long.parseLong(v)));
        return out;
    }

    private Map<String, String> readBack(List<String> keys, long timeoutMs) throws InterruptedException {
        var kv = KVGrpc.newBlockingStub(channel);
        var out = new HashMap<String, String>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (int from = 0; from < keys.size(); from += READ_BACK_BATCH) {
            var batch = keys.subList(from, Math.min(keys.size(), from + READ_BACK_BATCH));
            var req = MultiGetRequest.newBuilder();
            batch.forEach(k -> req.addKeys(ByteString.copyFromUtf8(k)));
            while (true) {
                try {
                    var r = kv.withDeadlineAfter(5, TimeUnit.SECONDS).multiGet(req.build());
                    for (int i = 0; i < batch.size(); i++) {
                        var v = r.getValues(i);
                        if (v.getFound()) out.put(batch.get(i), v.getValue().toStringUtf8());
                    }
                    break;
                } catch (StatusRuntimeException e) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("cannot read back " + batch.get(0) + "...", e);
                    Thread.sleep(100);
                }
            }
        }
        return out;
    }

    /** Return time of the first acknowledged write invoked after the given instant; MAX_VALUE if none. */
    long firstAckAfter(long nanos) {
        long best = Long.MAX_VALUE;
        for (History h : histories()) {
            for (Operation op : h.operations()) {
                if (op.mutates() && op.outcome() == Outcome.OK && op.invokeNanos() > nanos) {
                    best = Math.min(best, op.returnNanos());
                }
            }
        }
        return best;
    }

    /** Acknowledged set writes whose return time lies in [from, to). */
    long acknowledgedBetween(long from, long to) {
        long n = 0;
        for (Operation op : sets.snapshot().operations()) {
            if (op.outcome() == Outcome.OK && op.returnNanos() >= from && op.returnNanos() < to) n++;
        }
        return n;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        channel.shutdownNow();
    }
}
