package io.limedb.node.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ValueCacheTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The cached value of key, {@link ValueCache#ABSENT}, or null when not cached. */
    private static byte[] lookup(ValueCache cache, byte[] key) {
        var into = new byte[1][];
        return cache.lookup(List.of(key), 0, 1, Long.MAX_VALUE, into) == 1 ? into[0] : null;
    }

    /** Writes key = value (null: a delete) through the cache as the store does around a RocksDB write. */
    private static void write(ValueCache cache, byte[] key, byte[] value) {
        var batch = List.of(new KeyValueStore.Mutation(KeyValueStore.Space.DATA, key, value));
        cache.endWrite(batch, cache.beginWrite(batch), true);
    }

    /**
     * A ring of 16 chunks, written round many times with records of every size up to a chunk's
     * eighth: the cache may forget a key, but a key it answers for has its last written value, and
     * what it holds stays within its size.
     */
    @Test
    void aKeyItAnswersForHasItsLastValueAcrossChunksAndWrapsOfTheRing() {
        var cache = new ValueCache(64 << 10, 4 << 10);
        var model = new HashMap<String, byte[]>();
        var rnd = new Random(11);
        int answered = 0;
        for (int step = 0; step < 50_000; step++) {
            // Storage-like keys: 8 bytes of position, then the key (some shorter keys too).
            String name = "key-" + rnd.nextInt(2_000);
            byte[] key = rnd.nextInt(10) == 0 ? b(name.substring(0, 5)) : StorageKeys.encode(b(name));
            String id = new String(key, StandardCharsets.ISO_8859_1);
            if (rnd.nextInt(3) == 0) {
                byte[] value = rnd.nextInt(20) == 0 ? null : new byte[rnd.nextInt(600)];
                if (value != null) rnd.nextBytes(value);
                write(cache, key, value);
                model.put(id, value == null ? ValueCache.ABSENT : value);
            } else {
                byte[] got = lookup(cache, key);
                if (got != null) {
                    answered++;
                    assertThat(got).as("%s at step %d", name, step).isEqualTo(model.get(id));
                }
            }
            long[] f = cache.figures();
            assertThat(f[1]).as("bytes of the ring in use").isLessThanOrEqualTo(64 << 10);
        }
        assertThat(answered).as("reads answered from the cache").isGreaterThan(1_000);
        // A value larger than an eighth of the cache is not kept, and the key's older value is dropped.
        byte[] key = StorageKeys.encode(b("large"));
        write(cache, key, b("small"));
        assertThat(lookup(cache, key)).isEqualTo(b("small"));
        write(cache, key, new byte[9_000]);
        assertThat(lookup(cache, key)).isNull();
    }

    @Test
    void aRunOfHitsStopsAtItsKeyAndByteBounds() {
        var cache = new ValueCache(1 << 20);
        var keys = new ArrayList<byte[]>();
        for (int i = 0; i < 10; i++) {
            keys.add(StorageKeys.encode(b("k" + i)));
            write(cache, keys.get(i), new byte[1000]);
        }
        var into = new byte[10][];
        assertThat(cache.lookup(keys, 0, 4, Long.MAX_VALUE, into)).isEqualTo(4);
        assertThat(cache.lookup(keys, 2, 100, 2500, into)).as("stops at the value that reaches the bytes").isEqualTo(3);
        assertThat(cache.lookup(keys, 0, 100, 1, into)).as("at least one").isEqualTo(1);
        assertThat(cache.lookup(keys, 0, 100, Long.MAX_VALUE, into)).isEqualTo(10);
    }

    @Test
    void aReadThatMissedDoesNotFillAKeyWrittenSinceItsStamp() {
        var cache = new ValueCache(1 << 20);
        byte[] key = StorageKeys.encode(b("k"));
        var keys = List.of(key);
        var stamps = new long[1];
        assertThat(cache.missing(keys, 0, 1, stamps)).isEqualTo(1);
        write(cache, key, b("new")); // lands between the read's stamp and its fill
        cache.fill(keys, 0, 1, stamps, new byte[][] {b("old")});
        assertThat(lookup(cache, key)).isEqualTo(b("new"));
        // While a write is in flight, a read neither sees the old entry nor fills one.
        var batch = List.of(new KeyValueStore.Mutation(KeyValueStore.Space.DATA, key, b("newer")));
        long[] tokens = cache.beginWrite(batch);
        assertThat(lookup(cache, key)).isNull();
        assertThat(cache.missing(keys, 0, 1, stamps)).isEqualTo(1);
        assertThat(stamps[0]).isEqualTo(-1);
        cache.fill(keys, 0, 1, stamps, new byte[][] {b("new")});
        assertThat(lookup(cache, key)).isNull();
        cache.endWrite(batch, tokens, true);
        assertThat(lookup(cache, key)).isEqualTo(b("newer"));
        // A write that failed leaves the key out: RocksDB may or may not hold it.
        var lost = List.of(KeyValueStore.Mutation.put(key, b("lost")));
        tokens = cache.beginWrite(lost);
        cache.endWrite(lost, tokens, false);
        assertThat(lookup(cache, key)).isNull();
    }
}
