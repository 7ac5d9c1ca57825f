package io.limedb.node.storage;

import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.KeyValueStore.Space;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The data keyspace's recent values, in memory in front of RocksDB: a read that finds its key here
 * does not call into RocksDB (a point lookup there was 64-83% of a shard's CPU under GETs,
 * bench/README.md). It also remembers keys found absent.
 *
 * <p><b>Layout.</b> Entries are records appended to a ring of native memory, [key length, value
 * length (-1: absent), key, value], and found through an open-addressing table of longs (linear
 * probing; each slot holds a record's offset and 32 bits of its key's hash). The oldest records are
 * dropped to make room (first in, first out). Neither part holds Java objects per entry: on the Java
 * heap, an earlier version with an object map made every young collection scan the cache (2 us of
 * a shard's CPU per SET, bench/README.md), and its per-entry bookkeeping cost more than it saved.
 *
 * <p><b>Never older than RocksDB.</b> The store calls {@link #beginWrite} for each key before writing
 * it to RocksDB and {@link #endWrite} after: the first drops the key's entry, so while the write is
 * in flight a read goes to RocksDB, and the second puts the written value in. A read that missed
 * fills its key only if no write of the key's stripe started or was in flight since just before it
 * read RocksDB ({@link #stamp}, {@link #fill}), so a value read before a write can never land after
 * it. One lock guards it all, taken once per batch of keys.
 */
final class ValueCache {
    /** What a lookup answers for a key known absent. */
    static final byte[] ABSENT = new byte[0];
    private static final int HEADER = 8;
    private static final int PAD = -1;       // a record's key length: the rest of the ring up to its end is unused
    private static final int NO_VALUE = -1;  // a record's value length: the key is absent
    private static final int STRIPES = 1 << 12;
    /**
     * Bytes of ring per slot of the table: a full ring of records of 180 bytes on average (a 100-byte
     * value) fills the table to 70%; smaller records meet the entry limit first. With 32, the table
     * of a 512 MiB cache took 128 MiB of the heap (now 32 MiB), mostly empty.
     */
    private static final int BYTES_PER_SLOT = 128;
    static final int MAX_LOAD_PERCENT = 70;
    private static final int CHUNK_BYTES = 8 << 20;

    private final ReentrantLock lock = new ReentrantLock();
    /**
     * The ring, in chunks allocated as it first reaches them (a direct buffer is zeroed, so touched,
     * when allocated: an empty cache takes no memory). A record never spans two chunks.
     */
    private final ByteBuffer[] chunks;
    private final int chunkShift;
    private final int chunkMask;
    private final int capacity; // a whole number of chunks
    private final long[] slots; // 0: empty; else (offset + 1) << 32 | 32 bits of the key's hash
    private final int mask;
    private final int maxEntries;
    private long head; // where the next record goes (counts bytes ever appended; the offset is head % capacity)
    private long tail; // the oldest record kept
    private int entries;
    private long hits, misses;
    private volatile boolean keepWrites = true;
    private final long[] versions = new long[STRIPES]; // changes at every write's start and end
    private final int[] writing = new int[STRIPES];    // writes in flight

    ValueCache(long maxBytes) {
        this(maxBytes, CHUNK_BYTES);
    }

    /** With chunks of chunkBytes (a power of two) at most: tests use small ones. */
    ValueCache(long maxBytes, int chunkBytes) {
        if (maxBytes > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("a value cache holds at most 2047 MiB");
        int bytes = (int) Math.max(maxBytes, 4096);
        int chunk = Math.min(chunkBytes, Integer.highestOneBit(bytes));
        chunkShift = Integer.numberOfTrailingZeros(chunk);
        chunkMask = chunk - 1;
        capacity = bytes / chunk * chunk;
        chunks = new ByteBuffer[capacity / chunk];
        int n = Integer.highestOneBit(Math.max(64, capacity / BYTES_PER_SLOT) - 1) << 1;
        slots = new long[n];
        mask = n - 1;
        maxEntries = (int) ((long) n * MAX_LOAD_PERCENT / 100);
    }

    /** Whether {@link #endWrite} puts written values in (true) or leaves their keys out, for reads to fill. */
    void keepWrittenValues(boolean keep) {
        keepWrites = keep;
    }

    long maxBytes() {
        return capacity;
    }

    /**
     * Answers keys[from], keys[from + 1], ... from the cache into into[0], into[1], ... (a copy of
     * the value, or {@link #ABSENT}) up to the first key it does not hold, and at most max keys or
     * the first value that brings the bytes copied to maxBytes; returns how many.
     */
    int lookup(List<byte[]> keys, int from, int max, long maxBytes, byte[][] into) {
        int n = 0;
        long bytes = 0;
        lock.lock();
        try {
            for (int i = from; i < keys.size() && n < max && bytes < maxBytes; i++, n++) {
                byte[] v = get(keys.get(i));
                if (v == null) break;
                into[n] = v;
                bytes += v.length;
            }
            hits += n;
        } finally {
            lock.unlock();
        }
        return n;
    }

    /**
     * For the run of keys from keys[from] that the cache does not hold (at most max; keys[from] is
     * counted without looking): their stamps, taken before reading them from RocksDB, into
     * stamps[0 ..]; -1 for a key whose stripe has a write in flight. Returns the run's length.
     */
    int missing(List<byte[]> keys, int from, int max, long[] stamps) {
        int n = 0;
        lock.lock();
        try {
            for (int i = from; i < keys.size() && n < max; i++, n++) {
                byte[] key = keys.get(i);
                long h = hash(key);
                if (i > from && find(key, h) >= 0) break;
                int s = stripe(h);
                stamps[n] = writing[s] > 0 ? -1 : versions[s];
            }
            misses += n;
        } finally {
            lock.unlock();
        }
        return n;
    }

    /** Caches what RocksDB answered for each key (null: absent) if no write of its stripe came since its stamp. */
    void fill(List<byte[]> keys, int from, int n, long[] stamps, byte[][] raws) {
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                if (stamps[i] < 0) continue;
                byte[] key = keys.get(from + i);
                long h = hash(key);
                int s = stripe(h);
                if (writing[s] == 0 && versions[s] == stamps[i]) put(key, h, raws[i]);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A change to one key of the data: what the cache keeps. */
    private static boolean point(Mutation m) {
        return m.space() == Space.DATA && !m.range();
    }

    /** A range delete of the data: any key may change. */
    private static boolean anyKey(List<Mutation> batch) {
        for (Mutation m : batch) if (m.space() == Space.DATA && m.range()) return true;
        return false;
    }

    /**
     * Before the batch reaches RocksDB: drops the entries of the data keys it writes (all of them when
     * it has a range delete of the data) and returns the tokens for {@link #endWrite}.
     */
    long[] beginWrite(List<Mutation> batch) {
        var tokens = new long[batch.size()];
        lock.lock();
        try {
            for (int i = 0; i < batch.size(); i++) {
                if (!point(batch.get(i))) continue;
                long h = hash(batch.get(i).key());
                int s = stripe(h);
                writing[s]++;
                tokens[i] = ++versions[s];
                dropMatching(h);
            }
            if (anyKey(batch)) {
                for (int s = 0; s < STRIPES; s++) {
                    writing[s]++;
                    versions[s]++;
                }
                clear();
            }
        } finally {
            lock.unlock();
        }
        return tokens;
    }

    /**
     * After the batch: caches each data key's new value (null: deleted) when written is true and no
     * other write of its stripe started meanwhile or is still in flight; otherwise the entry stays
     * out, and the next read fills it from RocksDB.
     */
    void endWrite(List<Mutation> batch, long[] tokens, boolean written) {
        lock.lock();
        try {
            if (anyKey(batch)) {
                for (int s = 0; s < STRIPES; s++) {
                    writing[s]--;
                    versions[s]++;
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                Mutation m = batch.get(i);
                if (!point(m)) continue;
                long h = hash(m.key());
                int s = stripe(h);
                writing[s]--;
                if (written && keepWrites && writing[s] == 0 && versions[s] == tokens[i]) put(m.key(), h, m.value());
                versions[s]++;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Entries, bytes of the ring in use, hits, misses. */
    long[] figures() {
        lock.lock();
        try {
            return new long[] {entries, head - tail, hits, misses};
        } finally {
            lock.unlock();
        }
    }

    // ---- under the lock ----

    private byte[] get(byte[] key) {
        int slot = find(key, hash(key));
        if (slot < 0) return null;
        int at = offset(slots[slot]);
        int vlen = chunk(at).getInt(local(at) + 4);
        if (vlen == NO_VALUE) return ABSENT;
        var v = new byte[vlen];
        chunk(at).get(local(at) + HEADER + key.length, v);
        return v;
    }

    private int find(byte[] key, long h) {
        int tag = (int) h;
        for (int i = index(h); ; i = (i + 1) & mask) {
            long s = slots[i];
            if (s == 0) return -1;
            if ((int) s == tag && keyAt(offset(s), key)) return i;
        }
    }

    private boolean keyAt(int at, byte[] key) {
        var ring = chunk(at);
        if (ring.getInt(local(at)) != key.length) return false;
        int p = local(at) + HEADER;
        int i = 0;
        for (; i + 8 <= key.length; i += 8) {
            if (ring.getLong(p + i) != (long) LONGS.get(key, i)) return false;
        }
        for (; i < key.length; i++) {
            if (ring.get(p + i) != key[i]) return false;
        }
        return true;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /**
     * Drops every entry whose slot matches h (its index and 32 bits of hash): the key's own, and
     * rarely another key's, which is harmless (it is read from RocksDB again). No record is read, so
     * a write does not pay a cache miss on the ring to drop its key (4.8% of a shard's CPU under
     * pipelined SETs when it compared the keys).
     */
    private void dropMatching(long h) {
        int tag = (int) h;
        int i = index(h);
        while (slots[i] != 0) {
            if ((int) slots[i] == tag) removeSlot(i); // a later entry of the run may have moved into i
            else i = (i + 1) & mask;
        }
    }

    /** Appends a record for key (value null: absent) and points its slot at it; the older record, if any, is dropped. */
    private void put(byte[] key, long h, byte[] value) {
        int old = find(key, h);
        if (old >= 0) removeSlot(old);
        int size = HEADER + key.length + (value == null ? 0 : value.length);
        if (size > capacity / 8 || size > chunkMask + 1) return; // too large to be worth a slice of the ring
        int at = (int) (head % capacity);
        int room = chunkMask + 1 - local(at);
        if (size > room) { // does not fit in this chunk: the rest of it is skipped
            var c = allocated(at); // head is inside it: allocated already
            if (c == null) return;
            makeRoom(room);
            if (room >= HEADER) c.putInt(local(at), PAD);
            head += room;
            at = (int) (head % capacity);
        }
        var ring = allocated(at);
        if (ring == null) return;
        makeRoom(size);
        while (entries >= maxEntries) evictOldest();
        int p = local(at);
        ring.putInt(p, key.length);
        ring.putInt(p + 4, value == null ? NO_VALUE : value.length);
        ring.put(p + HEADER, key);
        if (value != null) ring.put(p + HEADER + key.length, value);
        head += size;
        int i = index(h);
        while (slots[i] != 0) i = (i + 1) & mask;
        slots[i] = ((long) (at + 1) << 32) | (h & 0xffffffffL);
        entries++;
    }

    /** Drops the oldest records until the ring has bytes free after head. */
    private void makeRoom(int bytes) {
        while (head + bytes - tail > capacity) evictOldest();
    }

    private void evictOldest() {
        int at = (int) (tail % capacity);
        int room = chunkMask + 1 - local(at);
        if (room < HEADER || chunk(at).getInt(local(at)) == PAD) { // the skipped end of a chunk
            tail += room;
            return;
        }
        int klen = chunk(at).getInt(local(at));
        int vlen = chunk(at).getInt(local(at) + 4);
        // The slot pointing at this record, if any (a newer record of the key, or none, when it was replaced).
        for (int i = index(hashAt(at + HEADER, klen)); slots[i] != 0; i = (i + 1) & mask) {
            if (offset(slots[i]) == at) {
                removeSlot(i);
                break;
            }
        }
        tail += HEADER + klen + Math.max(vlen, 0);
    }

    /** Empties slot i, moving later entries of its probe run back (no tombstones). */
    private void removeSlot(int i) {
        entries--;
        int hole = i;
        for (int j = (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask) {
            int home = homeOf(slots[j]);
            // An entry may fill the hole if its home is not cyclically within (hole, j].
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                slots[hole] = slots[j];
                hole = j;
            }
        }
        slots[hole] = 0;
    }

    private int homeOf(long slot) {
        return (int) slot & mask; // the slot's 32 bits of hash hold its index's bits
    }

    private void clear() {
        java.util.Arrays.fill(slots, 0);
        entries = 0;
        tail = head;
    }

    private ByteBuffer chunk(int at) {
        return chunks[at >>> chunkShift];
    }

    private int local(int at) {
        return at & chunkMask;
    }

    /**
     * The chunk that holds offset at, allocated when the ring first reaches it; null when the JVM's
     * native memory limit refuses it (logged once; the cache then works with the chunks it has).
     */
    private ByteBuffer allocated(int at) {
        int i = at >>> chunkShift;
        if (chunks[i] == null) {
            try {
                chunks[i] = ByteBuffer.allocateDirect(chunkMask + 1);
            } catch (OutOfMemoryError e) {
                if (!refused) {
                    refused = true;
                    org.slf4j.LoggerFactory.getLogger(ValueCache.class).warn("value cache: cannot allocate {} KiB more "
                            + "outside the heap ({}); it keeps what fits. Lower value.cache.mb ({} MiB) or raise "
                            + "-XX:MaxDirectMemorySize", (chunkMask + 1) >> 10, e.getMessage(), capacity >> 20);
                }
                return null;
            }
        }
        return chunks[i];
    }

    private boolean refused;

    private static int offset(long slot) {
        return (int) (slot >>> 32) - 1;
    }

    private int index(long h) {
        return (int) h & mask;
    }

    private static int stripe(long h) {
        return (int) (h >>> 20) & (STRIPES - 1);
    }

    /**
     * A storage key's hash: its first 8 bytes are its ring position, already a hash of the key, mixed
     * here with its length; shorter keys (tests) are hashed whole.
     */
    static long hash(byte[] key) {
        return mix(key.length >= StorageKeys.PREFIX ? (long) LONGS.get(key, 0) ^ key.length : java.util.Arrays.hashCode(key));
    }

    /** {@link #hash} of the key of length klen stored at the ring's offset at. */
    private long hashAt(int at, int klen) {
        var ring = chunk(at);
        int p = local(at);
        if (klen >= StorageKeys.PREFIX) return mix(ring.getLong(p) ^ klen);
        int h = 1;
        for (int i = 0; i < klen; i++) h = 31 * h + ring.get(p + i);
        return mix(h);
    }

    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        return h ^ (h >>> 33);
    }
}
