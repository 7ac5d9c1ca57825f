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
 * `bench-reads`: CPU time per point read in a shard's RocksDB (the shard's own settings and key
 * layout, without the value cache), for a few batch sizes: {@link RocksDbStore#getMany} (one Get per
 * key, what a shard does since issue 10's sixth round) against one MultiGet per batch into direct
 * buffers ({@link RocksDbStore#multiGetForComparison}, what it did in the fourth and fifth rounds),
 * side by side. The rounds alternate between the two, so a machine that slows down slows both; it
 * prints the median over the rounds. In-process: no network, no other process, so the figures are
 * steadier than redis-benchmark's, and the CPU caches are warmer than in a cluster on 2 cores.
 */
public final class ReadBench {
    private ReadBench() {}

    public static int run(List<String> args) throws Exception {
        int keys = 333_000, writes = 1_500_000, rounds = 8, gets = 40_000;
        List<Integer> batches = List.of(1, 2, 5, 16, 40);
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--keys=")) keys = Integer.parseInt(v);
            else if (a.startsWith("--writes=")) writes = Integer.parseInt(v);
            else if (a.startsWith("--rounds=")) rounds = Integer.parseInt(v);
            else if (a.startsWith("--gets=")) gets = Integer.parseInt(v);
            else if (a.startsWith("--batches=")) batches = Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
            else throw new IllegalArgumentException("unknown option " + a
                    + " (bench-reads [--keys=333000] [--writes=1500000] [--rounds=8] [--gets=40000] [--batches=1,2,5,16,40])");
        }
        if (keys < 1 || writes < 1 || rounds < 2 || gets < 1 || batches.stream().anyMatch(b -> b < 1)) {
            throw new IllegalArgumentException("bench-reads: keys, writes, gets and batch sizes must be positive, rounds at least 2");
        }
        Path dir = Files.createTempDirectory("limedb-bench-reads");
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults().withValueCache(0))) {
            // What redis-benchmark leaves in one of three shards: random keys, 100-byte and 1 KB values.
            System.out.printf("writing %,d values (100 B and 1 KB) over %,d keys...%n", writes, keys);
            var random = new Random(1);
            byte[] small = new byte[100], large = new byte[1024];
            Arrays.fill(small, (byte) 'x');
            Arrays.fill(large, (byte) 'x');
            for (int w = 0; w < writes; w += 40) {
                var batch = new ArrayList<Mutation>(40);
                for (int j = 0; j < 40; j++) {
                    byte[] value = (w / 50_000) % 2 == 0 ? small : large;
                    batch.add(Mutation.put(BenchFiles.storageKey(random.nextInt(keys)), new StoredValue(value, 0).encode()));
                }
                store.write(batch);
            }
            waitForCompactions(store);
            var thread = ManagementFactory.getThreadMXBean();
            System.out.printf("%-8s %16s %16s %8s%n", "batch", "Get ns/key", "MultiGet ns/key", "Get/MultiGet");
            for (int size : batches) {
                var single = new ArrayList<Double>();
                var multi = new ArrayList<Double>();
                for (int round = 0; round < rounds; round++) {
                    var sample = new Random(round);
                    var all = new ArrayList<List<byte[]>>();
                    for (int g = 0; g < gets; g += size) {
                        var ks = new ArrayList<byte[]>(size);
                        for (int j = 0; j < size; j++) ks.add(BenchFiles.storageKey(sample.nextInt(keys)));
                        all.add(ks);
                    }
                    for (boolean many : new boolean[] {round % 2 == 0, round % 2 != 0}) {
                        long found = 0, t0 = thread.getCurrentThreadCpuTime();
                        for (var ks : all) {
                            if (many) {
                                var into = new byte[ks.size()][];
                                for (int from = 0; from < ks.size(); ) {
                                    int n = store.multiGetForComparison(ks, from, into);
                                    if (n == 0) {
                                        into[0] = store.get(ks.get(from));
                                        n = 1;
                                    }
                                    for (int q = 0; q < n; q++) if (into[q] != null) found++;
                                    from += n;
                                }
                            } else {
                                var into = new byte[ks.size()][];
                                for (int from = 0; from < ks.size(); ) {
                                    int n = store.getMany(ks, from, into);
                                    for (int q = 0; q < n; q++) if (into[q] != null) found++;
                                    from += n;
                                }
                            }
                        }
                        double ns = (thread.getCurrentThreadCpuTime() - t0) / (double) (all.size() * size);
                        if (found == 0) throw new IllegalStateException("no key found: the data was not written");
                        if (round > 0) (many ? multi : single).add(ns); // round 0 warms the JIT and the cache
                    }
                }
                double s = BenchFiles.median(single), m = BenchFiles.median(multi);
                System.out.printf("%-8d %16.0f %16.0f %7.2fx%n", size, s, m, s / m);
            }
        } finally {
            BenchFiles.deleteTree(dir);
        }
        return 0;
    }

    private static void waitForCompactions(RocksDbStore store) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            var p = store.properties();
            if ("0".equals(p.get("rocksdb.num-running-compactions")) && "0".equals(p.get("rocksdb.num-running-flushes"))
                    && "0".equals(p.get("rocksdb.estimate-pending-compaction-bytes"))) return;
            Thread.sleep(100);
        }
    }

}
