package io.limedb.node.fault;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.KVGrpc;
import io.limedb.api.v1.PutRequest;
import io.limedb.testkit.history.History;
import io.limedb.testkit.history.HistoryRecorder;
import io.limedb.testkit.history.OpKind;
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
 * Clients of a fault test: each inserts keys of its own (the set workload) and writes and reads a
 * few shared registers (the linearizability workload), through the coordinator's gRPC API, and
 * records every operation with its outcome: ok, fail (the error says it was not applied) or unknown.
 */
final class Workload implements AutoCloseable {
    private final ManagedChannel channel;
    private final int clients;
    private final int registers;
    final HistoryRecorder sets = new HistoryRecorder();
    final HistoryRecorder regs = new HistoryRecorder();
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final boolean setsOnly;

    Workload(int coordinatorGrpcPort, int clients, int registers, boolean setsOnly) {
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", coordinatorGrpcPort).usePlaintext().build();
        this.clients = clients;
        this.registers = registers;
        this.setsOnly = setsOnly;
    }

    void start() {
        running.set(true);
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().name("client-" + c).start(() -> run(client)));
        }
    }

    void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) t.join(10_000);
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
                String key = "reg:" + rnd.nextInt(registers);
                String value = client + "." + (n++);
                write(kv, regs.write(client, key, value), key, value);
            } else {
                String key = "reg:" + rnd.nextInt(registers);
                var p = regs.read(client, key);
                try {
                    var r = kv.withDeadlineAfter(2, TimeUnit.SECONDS).get(GetRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build());
                    p.ok(r.getFound() ? r.getValue().toStringUtf8() : null);
                } catch (StatusRuntimeException e) {
                    p.fail(); // a read that returned nothing tells nothing
                }
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void write(KVGrpc.KVBlockingStub kv, HistoryRecorder.Pending p, String key, String value) {
        try {
            kv.withDeadlineAfter(2, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                    .setValue(ByteString.copyFromUtf8(value)).build());
            p.ok();
        } catch (StatusRuntimeException e) {
            if (definitelyNotApplied(e)) p.fail();
            else p.unknown();
        }
    }

    /** Errors that promise the write did not happen; anything else may have applied it. */
    static boolean definitelyNotApplied(StatusRuntimeException e) {
        String d = String.valueOf(e.getStatus().getDescription());
        if (d.contains("may or may not")) return false;
        return d.startsWith("NOT_ENOUGH_REPLICAS") && d.contains("nothing was written")
                || d.startsWith("NOT_PRIMARY") || d.startsWith("STALE_EPOCH")
                || e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT;
    }

    /** Every key the set workload tried, read back (retrying until the cluster answers). */
    Map<String, String> readBackSets(long timeoutMs) throws InterruptedException {
        var kv = KVGrpc.newBlockingStub(channel);
        var out = new HashMap<String, String>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (Operation op : sets.snapshot().operations()) {
            while (true) {
                try {
                    var r = kv.withDeadlineAfter(2, TimeUnit.SECONDS).get(GetRequest.newBuilder()
                            .setKey(ByteString.copyFromUtf8(op.key())).build());
                    if (r.getFound()) out.put(op.key(), r.getValue().toStringUtf8());
                    break;
                } catch (StatusRuntimeException e) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("cannot read back " + op.key(), e);
                    Thread.sleep(100);
                }
            }
        }
        return out;
    }

    /** Return time of the first acknowledged write that returned after the given instant. */
    long firstAckAfter(long nanos) {
        long best = Long.MAX_VALUE;
        for (History h : List.of(sets.snapshot(), regs.snapshot())) {
            for (Operation op : h.operations()) {
                if (op.kind() == OpKind.WRITE && op.outcome() == Outcome.OK && op.returnNanos() > nanos
                        && op.invokeNanos() > nanos) {
                    best = Math.min(best, op.returnNanos());
                }
            }
        }
        return best;
    }

    /** Acknowledged writes whose return time lies in [from, to). */
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
