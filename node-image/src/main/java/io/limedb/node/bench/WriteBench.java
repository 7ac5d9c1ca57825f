package io.limedb.node.bench;

import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.RocksDbStore;
import io.limedb.node.storage.StoredValue;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * `bench-writes`: CPU time per key written to a shard's RocksDB (the shard's own settings and key
 * layout, without the value cache), for a few batch sizes: write batches inserted into the data's
 * memtable in key order, each key from the insert hint of its part of the ring (what a shard does
 * since issue 10's fourteenth round), against in arrival order, each key searched from the skiplist's
 * top (before), side by side. Two stores in one process take the same batches of random keys; the rounds alternate
 * which goes first, so a machine that slows down slows both; it prints the median over the rounds.
 * The figure is the writing thread's CPU (JNI, memtable insert, WAL write): flushes and compactions
 * run on RocksDB's threads and write the same data either way.
 */
public final class WriteBench {
    private WriteBench() {}

    public static int run(List<String> args) throws Exception {
        int keys = 333_000, prefill = 1_000_000, rounds = 8, writes = 200_000, size = 100, pollute = 0;
        List<Integer> batches = List.of(1, 5, 16, 95, 400);
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--keys=")) keys = Integer.parseInt(v);
            else if (a.startsWith("--prefill=")) prefill = Integer.parseInt(v);
            else if (a.startsWith("--rounds=")) rounds = Integer.parseInt(v);
            else if (a.startsWith("--writes=")) writes = Integer.parseInt(v);
            else if (a.startsWith("--size=")) size = Integer.parseInt(v);
            else if (a.startsWith("--pollute=")) pollute = Integer.parseInt(v);
            else if (a.startsWith("--batches=")) batches = Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
            else throw new IllegalArgumentException("unknown option " + a + " (bench-writes [--keys=333000] "
                    + "[--prefill=1000000] [--rounds=8] [--writes=200000] [--size=100] [--batches=1,5,16,95,400] [--pollute=MiB])");
        }
        if (keys < 1 || prefill < 0 || writes < 1 || size < 0 || pollute < 0 || rounds < 2 || batches.stream().anyMatch(b -> b < 1)) {
            throw new IllegalArgumentException("bench-writes: keys, writes and batch sizes must be positive, "
                    + "prefill and size not negative, rounds at least 2");
        }
        Path dirA = Files.createTempDirectory("limedb-bench-writes-a");
        Path dirB = Files.createTempDirectory("limedb-bench-writes-b");
        var settings = RocksDbStore.Settings.defaults().withValueCache(0);
        try (var arrival = RocksDbStore.open(dirA, settings.withOrderedInserts(false));
                var ordered = RocksDbStore.open(dirB, settings)) {
            byte[] value = new StoredValue(new byte[size], 0).encode();
            // What redis-benchmark leaves in one of three shards: random keys, already flushed to L0 and L1.
            System.out.printf("writing %,d values of %d B over %,d keys into each store...%n", prefill, size, keys);
            var random = new Random(1);
            for (int w = 0; w < prefill; w += 40) {
                var batch = randomBatch(random, 40, keys, value);
                arrival.write(batch);
                ordered.write(batch);
            }
            if (pollute > 0) startPolluting(pollute);
            var thread = ManagementFactory.getThreadMXBean();
            System.out.printf("%-8s %20s %20s %8s%n", "batch", "arrival order ns/key", "key order ns/key", "ordered/arrival");
            for (int batchSize : batches) {
                var inArrival = new ArrayList<Double>();
                var inOrder = new ArrayList<Double>();
                for (int round = 0; round < rounds; round++) {
                    var sample = new Random(1000L * batchSize + round);
                    var all = new ArrayList<List<Mutation>>();
                    for (int w = 0; w < writes; w += batchSize) all.add(randomBatch(sample, batchSize, keys, value));
                    for (boolean keyOrder : new boolean[] {round % 2 == 0, round % 2 != 0}) {
                        var store = keyOrder ? ordered : arrival;
                        long t0 = thread.getCurrentThreadCpuTime();
                        for (var batch : all) store.write(batch);
                        double ns = (thread.getCurrentThreadCpuTime() - t0) / (double) (all.size() * batchSize);
                        if (round > 0) (keyOrder ? inOrder : inArrival).add(ns); // round 0 warms the JIT
                    }
                }
                double a = BenchFiles.median(inArrival), b = BenchFiles.median(inOrder);
                System.out.printf("%-8d %20.0f %20.0f %14.2fx%n", batchSize, a, b, b / a);
            }
            if (!Arrays.equals(arrival.get(BenchFiles.storageKey(0)), ordered.get(BenchFiles.storageKey(0)))) {
                throw new IllegalStateException("the two stores disagree on a key's value");
            }
        } finally {
            BenchFiles.deleteTree(dirA);
            BenchFiles.deleteTree(dirB);
        }
        return 0;
    }

    /**
     * A thread that reads its way through an array of this many MiB, over and over, one cache line at a
     * time in a scattered order: it evicts the memtable from the shared CPU cache, as the other
     * processes of a cluster on two cores do (the coordinator, the other shards, the client).
     */
    private static void startPolluting(int mib) {
        var t = new Thread(() -> {
            long[] area = new long[mib << 17]; // 8 bytes each
            int lines = area.length / 8, step = 40_503; // odd: visits every line once per pass
            long sum = 0;
            for (int i = 0; ; i = (i + step) % lines) {
                sum += area[i * 8]++;
                if (sum == Long.MIN_VALUE) System.out.print(""); // keeps the loop from being removed
            }
        }, "cache-polluter");
        t.setDaemon(true);
        t.start();
        System.out.printf("a thread reads through %d MiB during the rounds%n", mib);
    }

    private static List<Mutation> randomBatch(Random random, int n, int keys, byte[] value) {
        var batch = new ArrayList<Mutation>(n);
        for (int j = 0; j < n; j++) batch.add(Mutation.put(BenchFiles.storageKey(random.nextInt(keys)), value));
        return batch;
    }
}
