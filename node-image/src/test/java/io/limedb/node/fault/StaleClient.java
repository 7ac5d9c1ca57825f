package io.limedb.node.fault;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.Error;
import io.limedb.api.v1.ExecuteRequest;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.node.errors.ErrorCode;
import io.limedb.testkit.history.HistoryRecorder;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A coordinator whose topology stopped updating: it keeps sending reads and writes of the shared
 * registers to one member at one epoch, straight to its gRPC port, and records them in the
 * workload's register history. Whatever that member answers after it was deposed must still be
 * linearizable, and it must acknowledge no write after the fence.
 */
final class StaleClient implements AutoCloseable {
    static final int CLIENT_ID = 1000;
    private static final long DEADLINE_MS = 6000; // past the replication ack timeout: the member's own answer

    private final NodeProcess member;
    private final long epoch;
    private final HistoryRecorder regs;
    private final int registers;
    private final ManagedChannel channel;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong sequence = new AtomicLong();
    private Thread thread;

    StaleClient(NodeProcess member, long epoch, HistoryRecorder regs, int registers) {
        this.member = member;
        this.epoch = epoch;
        this.regs = regs;
        this.registers = registers;
        this.channel = NettyChannelBuilder.forTarget(member.grpcAddress()).usePlaintext().build();
    }

    String member() {
        return member.name();
    }

    long epoch() {
        return epoch;
    }

    void start() {
        running.set(true);
        thread = Thread.ofPlatform().name("stale-client").start(this::run);
    }

    void stop() throws InterruptedException {
        running.set(false);
        if (thread != null) thread.join(DEADLINE_MS + 2000);
    }

    private void run() {
        var stub = ShardGrpc.newBlockingStub(channel);
        var rnd = ThreadLocalRandom.current();
        while (running.get()) {
            String key = Workload.register(rnd.nextInt(registers));
            if (rnd.nextBoolean()) write(stub, key, "stale." + sequence.incrementAndGet());
            else read(stub, key);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void write(ShardGrpc.ShardBlockingStub stub, String key, String value) {
        var p = regs.write(CLIENT_ID, key, value);
        try {
            var r = execute(stub, Op.newBuilder().setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                    .setValue(ByteString.copyFromUtf8(value))).build());
            Error e = r.hasError() ? r.getError() : r.getResults(0).hasError() ? r.getResults(0).getError() : null;
            if (e == null) p.ok();
            else if (ErrorCode.parse(e.getCode()).outcome() == ErrorCode.Outcome.NOT_APPLIED) p.fail();
            else p.unknown();
        } catch (StatusRuntimeException e) {
            if (Workload.definitelyNotApplied(e)) p.fail();
            else p.unknown();
        }
    }

    private void read(ShardGrpc.ShardBlockingStub stub, String key) {
        var p = regs.read(CLIENT_ID, key);
        try {
            var r = execute(stub, Op.newBuilder().setGet(GetRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))).build());
            if (r.hasError() || r.getResults(0).hasError()) {
                p.fail();
            } else {
                var g = r.getResults(0).getGet();
                p.ok(g.getFound() ? g.getValue().toStringUtf8() : null);
            }
        } catch (StatusRuntimeException e) {
            p.fail();
        }
    }

    private io.limedb.api.v1.ExecuteResponse execute(ShardGrpc.ShardBlockingStub stub, Op op) {
        return stub.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                .execute(ExecuteRequest.newBuilder().setEpoch(epoch).addOps(op).build());
    }

    /** Writes of this client acknowledged although invoked after {@code nanos} (e.g. a new primary's promotion). */
    long acknowledgedWritesInvokedAfter(long nanos) {
        return regs.snapshot().operations().stream().filter(o -> o.client() == CLIENT_ID && o.kind() == OpKind.WRITE
                && o.outcome() == Outcome.OK && o.invokeNanos() > nanos).count();
    }

    /** Reads of this client answered with a value (the key's or absent) after {@code nanos}. */
    long readsServedAfter(long nanos) {
        return regs.snapshot().operations().stream().filter(o -> o.client() == CLIENT_ID && o.kind() == OpKind.READ
                && o.outcome() == Outcome.OK && o.invokeNanos() > nanos).count();
    }

    /** This client's operations: ok, fail, unknown. */
    String summary() {
        long ok = 0, fail = 0, unknown = 0;
        for (Operation o : regs.snapshot().operations()) {
            if (o.client() != CLIENT_ID) continue;
            switch (o.outcome()) {
                case OK -> ok++;
                case FAIL -> fail++;
                case UNKNOWN -> unknown++;
            }
        }
        return "stale client -> " + member.name() + " at epoch " + epoch + ": ok=" + ok + " failed=" + fail + " unknown=" + unknown;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        channel.shutdownNow();
    }
}
