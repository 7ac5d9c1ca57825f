package io.limedb.node.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.KVGrpc;
import io.limedb.api.v1.MultiGetRequest;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.ScanChunk;
import io.limedb.api.v1.ScanRequest;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.api.v1.WriteBatchRequest;
import io.limedb.api.v1.WriteOp;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.ring.KeyHash;
import io.limedb.core.ring.Ownership;
import io.limedb.node.dev.LocalCluster;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.node.dev.LocalController;
import io.limedb.node.it.TestClusterAccess;
import io.limedb.testkit.history.Outcome;
import io.limedb.testkit.net.Ports;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Online resharding on real processes under the local controller: 3 shards of 2 members (sync,
 * min-in-sync 2) holding 100,000 keys, 10 clients writing and reading through the coordinator with
 * their histories recorded, while shards are added and removed; once with no fault, then with a
 * kill -9 of the source primary, the target primary, or the coordinator in the middle of a move.
 * After each resharding: every acknowledged write is there, the registers are linearizable, the
 * counters exact, the preloaded keys intact, and every key is on the shard the ring says and on no
 * other (primaries and replicas).
 */
class ReshardingIT extends FaultHarness {
    private static final int PRELOAD = 100_000;
    private static final int VALUE_BYTES = 100;

    private void upSharded(long restartDelayMs) throws Exception {
        var spec = TestClusterAccess.spec(dir, 3, 2, "sync", 2, List.of());
        cluster = new LocalCluster(spec, TestClusterAccess.jar());
        cluster.morePorts(k -> new int[] {Ports.next(), Ports.next()});
        cluster.controllerSettings(LocalController.Settings.from(spec).withRestartDelay(restartDelayMs));
        long t0 = System.nanoTime();
        cluster.start(Duration.ofSeconds(60));
        report.line("cluster up in " + ms(System.nanoTime() - t0) + " ms (3 shards x 2 members, sync, min-in-sync 2)");
        t0 = System.nanoTime();
        preload(spec.coordinatorGrpc());
        report.line("preloaded " + PRELOAD + " keys of " + VALUE_BYTES + " bytes in " + ms(System.nanoTime() - t0) + " ms");
        workload = new Workload(spec.coordinatorGrpc(), CLIENTS, REGISTERS, false);
        workload.start();
    }

    private static String value(int i) {
        var s = new StringBuilder("value-" + i + "-");
        while (s.length() < VALUE_BYTES) s.append('x');
        return s.toString();
    }

    private void preload(int port) {
        var ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            var kv = KVGrpc.newBlockingStub(ch);
            for (int from = 0; from < PRELOAD; from += 1000) {
                var b = WriteBatchRequest.newBuilder();
                for (int i = from; i < from + 1000; i++) {
                    b.addOps(WriteOp.newBuilder().setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("pre:" + i))
                            .setValue(ByteString.copyFromUtf8(value(i)))));
                }
                kv.withDeadlineAfter(30, TimeUnit.SECONDS).writeBatch(b.build());
            }
        } finally {
            ch.shutdownNow();
        }
    }

    /** Scales in the background; the future completes with the time it took (ms). */
    private CompletableFuture<Long> scale(int shards) {
        return CompletableFuture.supplyAsync(() -> {
            long t0 = System.nanoTime();
            try {
                cluster.scaleTo(shards, Duration.ofMinutes(5));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return ms(System.nanoTime() - t0);
        });
    }

    /** Waits until the resharding in progress satisfies the predicate (to strike mid-move). */
    private Resharding awaitMove(Predicate<Resharding> p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            var st = cluster.controller().state();
            if (st != null && st.resharding() != null && p.test(st.resharding())) return st.resharding();
            Thread.sleep(5);
        }
        throw new IllegalStateException("no resharding reached the expected step within 60 s");
    }

    @Test
    void threeToFourToThreeUnderLoadLosesNothingAndFailsNothing() throws Exception {
        upSharded(1000);
        sleep(1000);
        long out = scale(4).get(5, TimeUnit.MINUTES);
        report.line("3 -> 4 shards in " + out + " ms: " + cluster.controller().ringSummary());
        var soft = new SoftAssertions();
        checkPlacement(soft);
        sleep(1000);
        long in = scale(3).get(5, TimeUnit.MINUTES);
        report.line("4 -> 3 shards in " + in + " ms: " + cluster.controller().ringSummary());
        stopAndCheckAll(soft, 0, true);
    }

    @Test
    void killSourcePrimaryMidMove() throws Exception {
        strikeMidMove("source primary (shard-0)", () -> cluster.controller().primary(0));
    }

    @Test
    void killTargetPrimaryMidMove() throws Exception {
        strikeMidMove("target primary (shard-3)", () -> cluster.controller().primary(3));
    }

    @Test
    void killCoordinatorMidMove() throws Exception {
        strikeMidMove("coordinator", () -> cluster.coordinator());
    }

    /** 3 -> 4, rolled back once the first move has flipped: what moved moves back; nothing is lost. */
    @Test
    void rollBackMidResharding() throws Exception {
        upSharded(1000);
        sleep(1000);
        var scaling = scale(4);
        var at = awaitMove(r -> r.movedRanges() > 0);
        var state = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                "http://127.0.0.1:" + cluster.spec().coordinatorHttp() + "/api/v1/cluster/state")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(state.statusCode()).as("cluster state mid-resharding: %s", state.body()).isEqualTo(200);
        assertThat(state.body()).contains("\"resharding_to\"", "shard-3");
        assertThat(cluster.controller().rollBack()).isTrue();
        report.line("rolled back with the moves at " + at.moves());
        try {
            scaling.get(5, TimeUnit.MINUTES);
            throw new AssertionError("the scale-out finished although it was rolled back");
        } catch (java.util.concurrent.ExecutionException e) {
            report.line("scale-out ended: " + e.getCause().getMessage());
        }
        report.line("after the rollback: " + cluster.controller().ringSummary() + ", " + cluster.shardCount() + " shards");
        var soft = new SoftAssertions();
        soft.assertThat(cluster.shardCount()).as("shards running after the rollback").isEqualTo(3);
        soft.assertThat(cluster.controller().state().topology().ownership().shards()).as("ring")
                .containsExactly("shard-0", "shard-1", "shard-2");
        stopAndCheckAll(soft, 0, true);
    }

    private interface Victim {
        NodeProcess get();
    }

    /** 3 -> 4 with a kill -9 while the first move (shard-0 -> shard-3) copies; then 4 -> 3 without. */
    private void strikeMidMove(String what, Victim victim) throws Exception {
        upSharded(1000);
        sleep(1000);
        var scaling = scale(4);
        var at = awaitMove(r -> r.moves().values().stream().anyMatch(m -> m.phase() == Resharding.Phase.COPYING)
                && r.movedRanges() == 0);
        var p = victim.get();
        long killedAt = System.nanoTime();
        cluster.kill(p);
        report.line("kill -9 of the " + what + " " + p.name() + " with the moves at " + at.moves());
        if (p == cluster.coordinator()) {
            sleep(1000);
            cluster.restart(p, Duration.ofSeconds(30));
            report.line("coordinator restarted " + ms(System.nanoTime() - killedAt) + " ms after the kill");
        }
        long out = scaling.get(5, TimeUnit.MINUTES);
        report.line("3 -> 4 shards in " + out + " ms: " + cluster.controller().ringSummary());
        var soft = new SoftAssertions();
        checkPlacement(soft);
        long in = scale(3).get(5, TimeUnit.MINUTES);
        report.line("4 -> 3 shards in " + in + " ms: " + cluster.controller().ringSummary());
        stopAndCheckAll(soft, killedAt, false);
    }

    /**
     * Stops the clients and checks everything: acknowledged writes, registers, counters, the preloaded
     * keys, placement; with {@code noFailures}, also that no client request failed or ended unknown.
     */
    private void stopAndCheckAll(SoftAssertions soft, long faultNanos, boolean noFailures) throws Exception {
        sleep(500);
        var c = stopAndCheck(true, faultNanos);
        assertSafe(soft, c);
        checkPreload(soft);
        checkPlacement(soft);
        long failed = failedRequests();
        report.line("client requests not acknowledged: " + failed + (faultNanos > 0 ? " (a process was killed)" : ""));
        if (noFailures) soft.assertThat(failed).as("client requests that failed or ended unknown").isZero();
        soft.assertAll();
    }

    private long failedRequests() {
        long n = 0;
        for (var h : workload.histories()) {
            for (var op : h.operations()) if (op.outcome() != Outcome.OK) n++;
        }
        return n;
    }

    /** Every preloaded key reads back with its value. */
    private void checkPreload(SoftAssertions soft) {
        var ch = NettyChannelBuilder.forAddress("127.0.0.1", cluster.spec().coordinatorGrpc()).usePlaintext().build();
        int missing = 0, wrong = 0;
        try {
            var kv = KVGrpc.newBlockingStub(ch);
            for (int from = 0; from < PRELOAD; from += 500) {
                var req = MultiGetRequest.newBuilder();
                for (int i = from; i < from + 500; i++) req.addKeys(ByteString.copyFromUtf8("pre:" + i));
                var r = kv.withDeadlineAfter(30, TimeUnit.SECONDS).multiGet(req.build());
                for (int i = 0; i < 500; i++) {
                    var v = r.getValues(i);
                    if (!v.getFound()) missing++;
                    else if (!v.getValue().toStringUtf8().equals(value(from + i))) wrong++;
                }
            }
        } finally {
            ch.shutdownNow();
        }
        report.line("preloaded keys: " + missing + " missing, " + wrong + " with a wrong value, of " + PRELOAD);
        soft.assertThat(missing).as("preloaded keys missing").isZero();
        soft.assertThat(wrong).as("preloaded keys with a wrong value").isZero();
    }

    /** Every key on every member (primary and replicas) belongs to that member's shard on the ring. */
    private void checkPlacement(SoftAssertions soft) throws InterruptedException {
        awaitReplicasCaughtUp();
        Ownership o = cluster.controller().state().topology().ownership();
        soft.assertThat(o.resharding()).as("no resharding left in progress").isFalse();
        long total = 0;
        var misplaced = new HashMap<String, Long>();
        for (int s = 0; s < cluster.shardCount(); s++) {
            String shard = cluster.shardId(s);
            long onPrimary = -1;
            for (NodeProcess m : cluster.members(s)) {
                long[] counts = scanCounts(m, shard, o);
                if (counts[1] > 0) misplaced.merge(m.name(), counts[1], Long::sum);
                if (m == cluster.controller().primary(s)) onPrimary = counts[0];
            }
            total += Math.max(0, onPrimary);
        }
        report.line("placement at ring version " + o.version() + ": " + total + " keys on " + cluster.shardCount()
                + " primaries, misplaced " + misplaced);
        soft.assertThat(misplaced).as("keys on a member whose shard does not own them").isEmpty();
        soft.assertThat(total).as("keys on the primaries").isGreaterThanOrEqualTo(PRELOAD);
    }

    /** {keys held, keys not owned by the shard} on one member. */
    private static long[] scanCounts(NodeProcess m, String shard, Ownership o) {
        var ch = NettyChannelBuilder.forTarget(m.grpcAddress()).usePlaintext().maxInboundMessageSize(64 << 20).build();
        long held = 0, wrong = 0;
        try {
            var it = ShardGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .scan(ScanRequest.newBuilder().setStartExclusive(0).setEndInclusive(0).setKeysOnly(true)
                            .setReplicaRead(true).build());
            while (it.hasNext()) {
                ScanChunk c = it.next();
                for (var kv : c.getEntriesList()) {
                    held++;
                    if (!o.ownerOf(KeyHash.of(kv.getKey().toByteArray())).equals(shard)) wrong++;
                }
            }
        } finally {
            ch.shutdownNow();
        }
        return new long[] {held, wrong};
    }

    /** Replicas apply asynchronously after an acknowledgement: give them a moment to hold the same. */
    private void awaitReplicasCaughtUp() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (int s = 0; s < cluster.shardCount() && all; s++) {
                var p = status(cluster.controller().primary(s));
                if (p == null) {
                    all = false;
                    break;
                }
                for (NodeProcess m : cluster.members(s)) {
                    var st = status(m);
                    if (st == null || st.getLastSeq() < p.getLastSeq() - 0) all = false;
                }
            }
            if (all) return;
            Thread.sleep(100);
        }
    }
}
