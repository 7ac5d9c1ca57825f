package io.limedb.node.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Arrays;

/**
 * The data keyspace's recent values, in memory in front of RocksDB: a read that finds its key here
 * does not call into RocksDB at all (a point lookup there was 64-83% of a shard's CPU under GETs,
 * bench/README.md). Bounded by bytes (Caffeine, W-TinyLFU eviction); it also remembers keys found
 * absent.
 *
 * <p>It never answers with a value older than RocksDB's. The store calls {@link #beginWrite} for
 * each key before writing it to RocksDB and {@link #endWrite} after: the first drops the key's entry,
 * so while the write is in flight a read goes to RocksDB, and the second puts the written value in.
 * A read that missed fills its key only if no write of the key's stripe started or was in flight
 * since just before it read RocksDB ({@link #stamp}, {@link #fill}), so a value read before a write
 * can never land after it. Stripes are guarded by their own monitors; hits take no lock.
 */
final class ValueCache {
    /** A key known absent. Stored values are never empty (their encoding has a header). */
    static final byte[] ABSENT = new byte[0];
    /** Java's cost of an entry besides its bytes (the key object, two arrays' headers, Caffeine's node). */
    static final int ENTRY_OVERHEAD = 112;
    private static final int STRIPES = 1 << 14;

    private final Cache<Key, byte[]> values;
    private final long maxBytes;
    private final Object[] locks = new Object[STRIPES];
    private final long[] versions = new long[STRIPES]; // guarded by locks[i]: changes at every write's start and end
    private final int[] writing = new int[STRIPES];    // guarded by locks[i]: writes in flight

    ValueCache(long maxBytes) {
        this.maxBytes = maxBytes;
        for (int i = 0; i < STRIPES; i++) locks[i] = new Object();
        values = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((Key k, byte[] v) -> k.bytes.length + v.length + ENTRY_OVERHEAD)
                .executor(Runnable::run) // upkeep on the calling thread: no pool threads of its own
                .recordStats()
                .build();
    }

    long maxBytes() {
        return maxBytes;
    }

    /** The cached raw value, {@link #ABSENT} for a key known absent, null when not cached. */
    byte[] lookup(byte[] key) {
        return values.getIfPresent(new Key(key));
    }

    /** Taken before reading a missed key from RocksDB; -1 while a write of its stripe is in flight. */
    long stamp(byte[] key) {
        int s = stripe(Key.hash(key));
        synchronized (locks[s]) {
            return writing[s] > 0 ? -1 : versions[s];
        }
    }

    /** Caches what RocksDB answered (null: absent) if no write of the key's stripe came since the stamp. */
    void fill(byte[] key, long stamp, byte[] raw) {
        if (stamp < 0) return;
        var k = new Key(key);
        int s = stripe(k.hash);
        synchronized (locks[s]) {
            if (writing[s] == 0 && versions[s] == stamp) values.put(k, raw == null ? ABSENT : raw);
        }
    }

    /** Before a write of key reaches RocksDB; returns the token for {@link #endWrite}. */
    long beginWrite(byte[] key) {
        var k = new Key(key);
        int s = stripe(k.hash);
        synchronized (locks[s]) {
            writing[s]++;
            values.invalidate(k);
            return ++versions[s];
        }
    }

    /**
     * After the write of key: caches value (null: deleted) when written is true and no other write
     * of the stripe started meanwhile or is still in flight (then the entry stays out, and the next
     * read fills it from RocksDB).
     */
    void endWrite(byte[] key, long token, byte[] value, boolean written) {
        var k = new Key(key);
        int s = stripe(k.hash);
        synchronized (locks[s]) {
            writing[s]--;
            if (written && writing[s] == 0 && versions[s] == token) values.put(k, value == null ? ABSENT : value);
            versions[s]++;
        }
    }

    /** Before a write that may touch any key (a range delete): every stripe is in flight, and nothing is cached. */
    void beginWriteAll() {
        for (int s = 0; s < STRIPES; s++) {
            synchronized (locks[s]) {
                writing[s]++;
                versions[s]++;
            }
        }
        values.invalidateAll();
    }

    void endWriteAll() {
        for (int s = 0; s < STRIPES; s++) {
            synchronized (locks[s]) {
                writing[s]--;
                versions[s]++;
            }
        }
    }

    /** Entries, bytes held (as weighed), hits, misses. */
    long[] figures() {
        var st = values.stats();
        long bytes = values.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
        return new long[] {values.estimatedSize(), bytes, st.hitCount(), st.missCount()};
    }

    private static int stripe(int hash) {
        return (hash ^ (hash >>> 16)) & (STRIPES - 1);
    }

    /** A storage key by content. Its first 8 bytes are the key's ring position, a hash of it. */
    private static final class Key {
        final byte[] bytes;
        final int hash;

        Key(byte[] bytes) {
            this.bytes = bytes;
            this.hash = hash(bytes);
        }

        static int hash(byte[] b) {
            if (b.length < StorageKeys.PREFIX) return Arrays.hashCode(b);
            long p = 0;
            for (int i = 0; i < StorageKeys.PREFIX; i++) p = (p << 8) | (b[i] & 0xff);
            p ^= b.length; // keys of one position (a collision of the ring hash) still spread a little
            return (int) (p ^ (p >>> 32));
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.bytes, bytes);
        }
    }
}
