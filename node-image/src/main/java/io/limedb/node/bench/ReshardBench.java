package io.limedb.node.bench;

import com.google.protobuf.ByteString;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.KVGrpc;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.WriteBatchRequest;
import io.limedb.api.v1.WriteOp;
import io.limedb.core.reshard.Resharding;
import io.limedb.node.dev.LocalCluster;
import io.limedb.node.dev.LocalController;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * `bench-reshard`: how fast a resharding moves data, and what clients get meanwhile. A local cluster
 * of 1 shard (2 members, sync replication) holds 2 x --keys keys of --value-size bytes; a client load
 * (--clients threads, half GET half SET, through the coordinator's gRPC API) runs throughout; the
 * shard count goes 1 -> 2, which moves about half the keys. Prints the move's time, keys/s and MB/s,
 * and the client throughput during the move next to the throughput just before it, as a ratio.
 */
public final class ReshardBench {
    private ReshardBench() {}

    public static int run(List<String> args) throws Exception {
        long keys = 100_000;
        int valueSize = 100, clients = 16, replicas = 2, basePort = 29100, baselineSeconds = 5;
        boolean keep = false;
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--keys=")) keys = Long.parseLong(v);
            else if (a.startsWith("--value-size=")) valueSize = Integer.parseInt(v);
            else if (a.startsWith("--clients=")) clients = Integer.parseInt(v);
            else if (a.startsWith("--replicas=")) replicas = Integer.parseInt(v);
            else if (a.startsWith("--base-port=")) basePort = Integer.parseInt(v);
            else if (a.startsWith("--baseline-seconds=")) baselineSeconds = Integer.parseInt(v);
            else if (a.equals("--keep")) keep = true;
            else throw new IllegalArgumentException("unknown option " + a + " (bench-reshard [--keys=100000] "
                    + "[--value-size=100] [--clients=16] [--replicas=2] [--base-port=29100] [--baseline-seconds=5])");
        }
        if (replicas < 2) throw new IllegalArgumentException("resharding needs replicated shards: --replicas=2 or more");
        Path dir = Files.createTempDirectory("limedb-reshard-bench");
        int per = replicas;
        int[] g = new int[per], h = new int[per];
        for (int i = 0; i < per; i++) {
            g[i] = basePort + 10 + i;
            h[i] = basePort + 50 + i;
        }
        int fBase = basePort;
        var spec = new LocalCluster.Spec(1, replicas, "sync", Math.min(2, replicas), dir, "127.0.0.1", basePort + 1,
                basePort + 2, basePort + 3, g, h, List.of());
        var cluster = new LocalCluster(spec, jar());
        cluster.morePorts(k -> new int[] {fBase + 10 + k, fBase + 50 + k});
        cluster.controllerSettings(LocalController.Settings.from(spec).withRestartDelay(-1));
        try (cluster) {
            cluster.start(Duration.ofSeconds(60));
            var ch = NettyChannelBuilder.forAddress("127.0.0.1", spec.coordinatorGrpc()).usePlaintext()
                    .maxInboundMessageSize(64 << 20).build();
            var kv = KVGrpc.newBlockingStub(ch);
            byte[] value = new byte[valueSize];
            Arrays.fill(value, (byte) 'v');
            long preload = 2 * keys;
            long t0 = System.nanoTime();
            preload(kv, preload, value);
            System.out.printf("preloaded %,d keys of %d bytes on 1 shard (%d members, sync) in %.1f s%n", preload,
                    valueSize, replicas, (System.nanoTime() - t0) / 1e9);

            var running = new AtomicBoolean(true);
            var done = new AtomicLong();
            var failed = new AtomicLong();
            var threads = new ArrayList<Thread>();
            for (int c = 0; c < clients; c++) {
                threads.add(Thread.ofPlatform().daemon().start(() -> load(kv, value, running, done, failed)));
            }
            Thread.sleep(2000); // warm
            long b0 = done.get(), bt = System.nanoTime();
            Thread.sleep(baselineSeconds * 1000L);
            double baseline = (done.get() - b0) / ((System.nanoTime() - bt) / 1e9);
            long failedBefore = failed.get();

            // Shard start-up is not part of the move: start the new shard first, then time the moves.
            var watch = Thread.ofPlatform().daemon().unstarted(() -> { });
            long[] moveStart = {0}, moveEnd = {0}, ops = {0, 0};
            Resharding[] last = {null};
            watch = Thread.ofPlatform().daemon().start(() -> {
                while (running.get()) {
                    var st = cluster.controller() == null ? null : cluster.controller().state();
                    if (st != null && st.resharding() != null) {
                        if (moveStart[0] == 0) {
                            moveStart[0] = System.nanoTime();
                            ops[0] = done.get();
                        }
                        last[0] = st.resharding();
                    } else if (moveStart[0] != 0 && moveEnd[0] == 0) {
                        moveEnd[0] = System.nanoTime();
                        ops[1] = done.get();
                    }
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            long s0 = System.nanoTime();
            cluster.scaleTo(2, Duration.ofMinutes(30));
            long total = System.nanoTime() - s0;
            Thread.sleep(100);
            running.set(false);
            for (Thread t : threads) t.join(5000);
            watch.join(1000);
            ch.shutdownNow();
            if (moveStart[0] == 0 || moveEnd[0] == 0 || last[0] == null) {
                System.out.println("bench-reshard: the resharding was not seen");
                return 1;
            }
            double moveS = (moveEnd[0] - moveStart[0]) / 1e9;
            long moved = last[0].keys();
            long bytes = last[0].bytes();
            double during = (ops[1] - ops[0]) / moveS;
            System.out.printf("resharding 1 -> 2 shards: %,d keys (%.1f MB) moved in %.2f s = %,.0f keys/s, %.1f MB/s "
                            + "(%.1f s with the new shard's start-up)%n", moved, bytes / 1e6, moveS, moved / moveS,
                    bytes / 1e6 / moveS, total / 1e9);
            System.out.printf("client throughput (%d clients, GET/SET 50/50): %,.0f ops/s before, %,.0f ops/s during "
                    + "the move: ratio %.2f; failed requests: %d before, %d during%n", clients, baseline, during,
                    during / baseline, failedBefore, failed.get() - failedBefore);
            return 0;
        } finally {
            if (keep) {
                System.out.println("data and logs kept in " + dir);
                return 0;
            }
            try {
                BenchFiles.deleteTree(dir);
            } catch (RuntimeException ignored) {
                // best effort
            }
        }
    }

    private static void preload(KVGrpc.KVBlockingStub kv, long n, byte[] value) throws InterruptedException {
        int writers = 4;
        var threads = new ArrayList<Thread>();
        var v = ByteString.copyFrom(value);
        for (int w = 0; w < writers; w++) {
            int ww = w;
            threads.add(Thread.ofPlatform().start(() -> {
                for (long from = (long) ww * 1000; from < n; from += (long) writers * 1000) {
                    var b = WriteBatchRequest.newBuilder();
                    for (long i = from; i < Math.min(n, from + 1000); i++) {
                        b.addOps(WriteOp.newBuilder().setPut(PutRequest.newBuilder()
                                .setKey(ByteString.copyFromUtf8("k" + i)).setValue(v)));
                    }
                    kv.withDeadlineAfter(60, TimeUnit.SECONDS).writeBatch(b.build());
                }
            }));
        }
        for (Thread t : threads) t.join();
    }

    private static void load(KVGrpc.KVBlockingStub kv, byte[] value, AtomicBoolean running, AtomicLong done,
            AtomicLong failed) {
        var rnd = ThreadLocalRandom.current();
        var v = ByteString.copyFrom(value);
        while (running.get()) {
            var key = ByteString.copyFromUtf8("load:" + rnd.nextInt(100_000));
            try {
                if (rnd.nextBoolean()) {
                    kv.withDeadlineAfter(5, TimeUnit.SECONDS).get(GetRequest.newBuilder().setKey(key).build());
                } else {
                    kv.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(key).setValue(v).build());
                }
                done.incrementAndGet();
            } catch (RuntimeException e) {
                failed.incrementAndGet();
            }
        }
    }

    private static Path jar() throws Exception {
        return Path.of(ReshardBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
