package io.limedb.node.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.ring.KeyHash;
import io.limedb.core.ring.RingRange;
import io.limedb.node.storage.KeyValueStore.Mutation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbStoreTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** RocksDB alone: what the value cache stands in front of. */
    private static final RocksDbStore.Settings UNCACHED = RocksDbStore.Settings.defaults().withValueCache(0);

    @Test
    void putGetDeleteAndBatch() {
        try (var store = RocksDbStore.open(dir, UNCACHED)) {
            store.put(b("a"), b("1"));
            assertThat(store.get(b("a"))).isEqualTo(b("1"));
            store.delete(b("a"));
            assertThat(store.get(b("a"))).isNull();
            store.write(List.of(Mutation.put(b("x"), b("1")), Mutation.put(b("y"), b("2")), Mutation.delete(b("x"))));
            assertThat(store.get(b("x"))).isNull();
            assertThat(store.get(b("y"))).isEqualTo(b("2"));
            var into = new byte[2][];
            assertThat(store.getMany(List.of(b("y"), b("nope")), 0, into)).isEqualTo(2);
            assertThat(into[0]).isEqualTo(b("2"));
            assertThat(into[1]).isNull();
        }
    }

    @Test
    void getManyReadsARunOfAtMost64KeysAndStopsOnceItsValuesReachItsBudget() {
        try (var store = RocksDbStore.open(dir, UNCACHED)) {
            var keys = new java.util.ArrayList<byte[]>();
            for (int i = 0; i < 100; i++) {
                keys.add(b("k" + i));
                // k70..k79: 100 kB each; the budget of one run (512 KiB) is reached at the sixth.
                store.put(b("k" + i), i >= 70 && i < 80 ? new byte[100_000] : b("v" + i));
            }
            keys.add(b("absent"));
            var into = new byte[keys.size()][];
            assertThat(store.getMany(keys, 0, into)).isEqualTo(RocksDbStore.BATCH_KEYS);
            assertThat(into[0]).isEqualTo(b("v0"));
            assertThat(into[63]).isEqualTo(b("v63"));
            // From k64: six small values, then large ones until they reach 512 KiB: the one that does is whole.
            int n = store.getMany(keys, 64, into);
            assertThat(n).isEqualTo(6 + 6);
            assertThat(into[5]).isEqualTo(b("v69"));
            assertThat(into[11]).hasSize(100_000);
            assertThat(store.getMany(keys, 76, into)).isEqualTo(25);
            assertThat(into[3]).hasSize(100_000);
            assertThat(into[4]).isEqualTo(b("v80"));
            assertThat(into[23]).isEqualTo(b("v99"));
            assertThat(into[24]).isNull();
            // One value larger than the whole budget is still read, alone.
            store.put(b("huge"), new byte[600_000]);
            assertThat(store.getMany(List.of(b("huge"), b("k0")), 0, into)).isEqualTo(1);
            assertThat(into[0]).hasSize(600_000);
        }
    }

    @Test
    void dataSurvivesCloseAndReopen() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            for (int i = 0; i < 1000; i++) store.put(b("k" + i), b("v" + i));
            store.delete(b("k7"));
        }
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            assertThat(store.get(b("k999"))).isEqualTo(b("v999"));
            assertThat(store.get(b("k7"))).isNull();
            assertThat(store.estimatedKeys()).isBetween(900L, 1100L);
            assertThat(store.properties()).containsKey("rocksdb.estimate-num-keys");
        }
    }

    @Test
    void aRingRangeIsOneContiguousKeyRangeThatCanBeScannedAndDeleted() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var keys = new ArrayList<byte[]>();
            for (int i = 0; i < 2000; i++) {
                byte[] k = b("user:" + i);
                keys.add(k);
                store.put(StorageKeys.encode(k), b("v"));
            }
            // A scan sees every key, in key order.
            var all = new ArrayList<byte[]>();
            store.scan(null, null, (k, v) -> all.add(k) || true);
            assertThat(all).hasSize(keys.size());
            for (int i = 1; i < all.size(); i++) {
                assertThat(java.util.Arrays.compareUnsigned(all.get(i - 1), all.get(i))).isNegative();
            }
            // A range that wraps past the top of the ring, and one that does not.
            for (var range : List.of(new RingRange(Long.MIN_VALUE / 2, Long.MAX_VALUE / 3),
                    new RingRange(Long.MAX_VALUE / 2, Long.MIN_VALUE + 12345))) {
                long expected = keys.stream().filter(k -> range.contains(KeyHash.of(k))).count();
                var seen = new ArrayList<byte[]>();
                for (byte[][] iv : StorageKeys.intervals(range)) {
                    store.scan(iv[0], iv[1], (k, v) -> seen.add(StorageKeys.userKey(k)) || true);
                }
                assertThat(seen).hasSize((int) expected).allMatch(k -> range.contains(KeyHash.of(k)));
            }
            var doomed = new RingRange(0, Long.MAX_VALUE);
            for (byte[][] iv : StorageKeys.intervals(doomed)) store.deleteRange(iv[0], iv[1]);
            for (byte[] k : keys) {
                boolean present = store.get(StorageKeys.encode(k)) != null;
                assertThat(present).as(new String(k)).isEqualTo(!doomed.contains(KeyHash.of(k)));
            }
        }
    }

    @Test
    void wholeRingIntervalIsUnbounded() {
        assertThat(StorageKeys.intervals(new RingRange(5, 5))).singleElement()
                .satisfies(iv -> assertThat(Arrays.asList(iv)).containsExactly(null, null));
    }

    @Test
    void storedValueRoundTripsWithAndWithoutExpiry() {
        var plain = StoredValue.decode(new StoredValue(b("hello"), 0).encode());
        assertThat(plain.value()).isEqualTo(b("hello"));
        assertThat(plain.expiredAt(Long.MAX_VALUE)).isFalse();
        var ttl = StoredValue.decode(new StoredValue(b(""), 1234).encode());
        assertThat(ttl.expireAtMs()).isEqualTo(1234);
        assertThat(ttl.expiredAt(1233)).isFalse();
        assertThat(ttl.expiredAt(1234)).isTrue();
    }

    @Test
    void withTheValueCacheEveryReadAnswersWhatRocksDbHolds() {
        // A cache far smaller than the data, so that entries are evicted and read back; the same
        // operations on a map tell what every read must answer.
        var settings = RocksDbStore.Settings.defaults().withValueCache(16 << 10);
        var model = new java.util.TreeMap<String, byte[]>();
        var rnd = new java.util.Random(7);
        try (var store = RocksDbStore.open(dir, settings)) {
            for (int step = 0; step < 20_000; step++) {
                String k = "k" + rnd.nextInt(500);
                switch (rnd.nextInt(10)) {
                    case 0, 1 -> {
                        byte[] v = b("v" + step);
                        store.put(b(k), v);
                        model.put(k, v);
                    }
                    case 2 -> {
                        store.delete(b(k));
                        model.remove(k);
                    }
                    case 3 -> { // a batch writing the same key twice: the last one counts
                        String k2 = "k" + rnd.nextInt(500);
                        store.write(List.of(Mutation.put(b(k), b("a" + step)), Mutation.put(b(k2), b("b" + step)),
                                Mutation.put(b(k), b("c" + step))));
                        model.put(k2, b("b" + step));
                        model.put(k, b("c" + step));
                    }
                    case 4 -> {
                        if (rnd.nextInt(200) == 0) { // rarely: a range delete, which empties the cache
                            store.deleteRange(b("k1"), b("k3"));
                            model.subMap("k1", "k3").clear();
                        } else if (rnd.nextInt(100) == 0) { // as a member turns replica or primary
                            store.keepWrittenValues(rnd.nextBoolean());
                        }
                    }
                    case 5, 6 -> {
                        var keys = new ArrayList<byte[]>();
                        for (int j = 0; j < 1 + rnd.nextInt(80); j++) keys.add(b("k" + rnd.nextInt(500)));
                        var into = new byte[keys.size()][];
                        for (int from = 0; from < keys.size(); ) {
                            int n = store.getMany(keys, from, into);
                            assertThat(n).isPositive();
                            for (int j = 0; j < n; j++) {
                                String key = new String(keys.get(from + j), StandardCharsets.UTF_8);
                                assertThat(into[j]).as("%s at step %d", key, step).isEqualTo(model.get(key));
                            }
                            from += n;
                        }
                    }
                    default -> assertThat(store.get(b(k))).as("%s at step %d", k, step).isEqualTo(model.get(k));
                }
            }
            long[] f = store.valueCacheFigures(); // entries, bytes, hits, misses
            assertThat(f[2]).as("hits").isGreaterThan(1_000);
            assertThat(f[3]).as("misses").isGreaterThan(1_000);
            assertThat(f[1]).as("bytes held").isLessThanOrEqualTo(16 << 10);
            assertThat(store.properties()).containsKeys("value-cache.hits", "value-cache.entries");
        }
    }

    /**
     * Readers race a writer over a few keys whose values only grow. A read that starts after a write
     * returned must see that write or a later one, whether it hits the cache, misses it, or fills it
     * while the writer overwrites the key: a cache that kept a value read before a write would
     * answer an older one here.
     */
    @Test
    void aReadAfterAWriteReturnedNeverSeesAnOlderValueThroughTheCache() throws Exception {
        int keys = 4;
        var acked = new java.util.concurrent.atomic.AtomicLongArray(keys);
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var failures = new java.util.concurrent.ConcurrentLinkedQueue<String>();
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults().withValueCache(1 << 20))) {
            for (int k = 0; k < keys; k++) store.put(b("key" + k), b("0"));
            var readers = new ArrayList<Thread>();
            for (int r = 0; r < 3; r++) {
                int seed = r;
                readers.add(Thread.ofPlatform().start(() -> {
                    var rnd = new java.util.Random(seed);
                    var all = new ArrayList<byte[]>();
                    for (int k = 0; k < keys; k++) all.add(b("key" + k));
                    var into = new byte[keys][];
                    while (!stop.get() && failures.isEmpty()) {
                        int k = rnd.nextInt(keys);
                        long floor = acked.get(k);
                        long seen;
                        if (rnd.nextBoolean()) {
                            seen = Long.parseLong(new String(store.get(all.get(k)), StandardCharsets.UTF_8));
                        } else {
                            int n = store.getMany(all, k, into);
                            seen = Long.parseLong(new String(into[0], StandardCharsets.UTF_8));
                            assertThat(n).isPositive();
                        }
                        if (seen < floor) failures.add("key" + k + ": read " + seen + " after " + floor + " was written");
                    }
                }));
            }
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
            for (long v = 1; System.nanoTime() < deadline && failures.isEmpty(); v++) {
                int k = (int) (v % keys);
                store.put(b("key" + k), b(Long.toString(v)));
                acked.set(k, v);
            }
            stop.set(true);
            for (var t : readers) t.join();
            assertThat(failures).isEmpty();
            assertThat(store.valueCacheFigures()[2]).as("hits").isPositive();
        }
    }

    /**
     * The data's memtable budget as RocksDB applied it (its OPTIONS file): up to 16 memtables that share
     * it, none below 1 MiB, half of them flushed together.
     */
    @Test
    void theDataMemtablesShareTheWriteBufferBudgetAndL0CompactsEightFiles() throws Exception {
        record Case(long budgetMb, int memtables, long memtableMb) {}
        for (var c : List.of(new Case(64, 16, 4), new Case(8, 8, 1), new Case(1, 2, 1), new Case(512, 16, 32))) {
            Path d = dir.resolve("budget-" + c.budgetMb());
            var s = RocksDbStore.Settings.defaults();
            s = new RocksDbStore.Settings(s.compression(), s.blockCacheBytes(), c.budgetMb() << 20, false, 0);
            try (var store = RocksDbStore.open(d, s)) {
                store.put(b("k"), b("v"));
            }
            String options;
            try (var files = java.nio.file.Files.list(d)) {
                Path latest = files.filter(f -> f.getFileName().toString().startsWith("OPTIONS-")).sorted().reduce((a, b) -> b)
                        .orElseThrow();
                options = java.nio.file.Files.readString(latest);
            }
            // The data is the default column family: its section comes first.
            String data = options.substring(options.indexOf("[CFOptions \"default\"]"));
            data = data.substring(0, data.indexOf("[TableOptions"));
            assertThat(data).as("budget %d MiB", c.budgetMb())
                    .contains("write_buffer_size=" + (c.memtableMb() << 20) + "\n")
                    .contains("max_write_buffer_number=" + c.memtables() + "\n")
                    .contains("min_write_buffer_number_to_merge=" + c.memtables() / 2 + "\n")
                    .contains("level0_file_num_compaction_trigger=8\n")
                    .contains("memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix.1\n");
        }
    }

    /**
     * A batch goes into the memtable in key order, not in the order it was written: whatever the order,
     * the last write of a key in a batch is the one that stays, with or without the value cache, and a
     * range delete only removes what came before it in the batch.
     */
    @Test
    void aBatchInsertedInKeyOrderKeepsTheLastWriteOfEachKey() {
        for (var settings : List.of(UNCACHED, RocksDbStore.Settings.defaults())) {
            Path d = dir.resolve("cache-" + settings.valueCacheBytes());
            try (var store = RocksDbStore.open(d, settings)) {
                store.write(List.of(Mutation.put(b("m"), b("1")), Mutation.put(b("z"), b("z1")), Mutation.put(b("a"), b("a1")),
                        Mutation.put(b("m"), b("2")), Mutation.delete(b("z")), Mutation.put(b("b"), b("b1")),
                        Mutation.delete(b("a")), Mutation.put(b("a"), b("a2")), Mutation.put(b("m"), b("3")),
                        Mutation.put(KeyValueStore.Space.META, b("m"), b("meta"))));
                assertThat(store.get(b("m"))).isEqualTo(b("3"));
                assertThat(store.get(b("a"))).isEqualTo(b("a2"));
                assertThat(store.get(b("z"))).isNull();
                assertThat(store.get(b("b"))).isEqualTo(b("b1"));
                assertThat(store.get(KeyValueStore.Space.META, b("m"))).isEqualTo(b("meta"));
                // A range delete keeps the batch's order: the put before it goes, the put after it stays.
                store.write(List.of(Mutation.put(b("y"), b("y1")), Mutation.deleteRange(KeyValueStore.Space.DATA, b("a"), b("zz")),
                        Mutation.put(b("c"), b("c1"))));
                assertThat(store.get(b("y"))).isNull();
                assertThat(store.get(b("m"))).isNull();
                assertThat(store.get(b("c"))).isEqualTo(b("c1"));
            }
        }
    }
}
