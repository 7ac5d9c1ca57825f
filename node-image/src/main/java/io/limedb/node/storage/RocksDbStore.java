package io.limedb.node.storage;

import io.limedb.node.config.NodeConfig.Compression;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.DataBlockIndexType;
import org.rocksdb.HyperClockCache;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Statistics;
import org.rocksdb.StatsLevel;
import org.rocksdb.TickerType;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/** {@link KeyValueStore} on RocksDB (WAL on). Owns and closes every native handle it creates. */
public final class RocksDbStore implements KeyValueStore {

    /**
     * Tunables of the engine; see the matching keys in NodeConfig. orderedInserts is on except as
     * `make bench-writes`' baseline (see {@link #insertOrder}).
     */
    public record Settings(Compression compression, long blockCacheBytes, long writeBufferBytes, boolean syncWrites,
            long valueCacheBytes, boolean orderedInserts) {
        public Settings(Compression compression, long blockCacheBytes, long writeBufferBytes, boolean syncWrites,
                long valueCacheBytes) {
            this(compression, blockCacheBytes, writeBufferBytes, syncWrites, valueCacheBytes, true);
        }

        public static Settings defaults() {
            return new Settings(Compression.LZ4, 128L << 20, 64L << 20, false, 128L << 20);
        }

        /** These settings with a value cache of this size (0: none). */
        public Settings withValueCache(long bytes) {
            return new Settings(compression, blockCacheBytes, writeBufferBytes, syncWrites, bytes, orderedInserts);
        }

        /** These settings with write batches inserted in key order (the default) or in arrival order. */
        public Settings withOrderedInserts(boolean on) {
            return new Settings(compression, blockCacheBytes, writeBufferBytes, syncWrites, valueCacheBytes, on);
        }
    }

    private static final String[] PROPERTIES = {
        "rocksdb.estimate-num-keys", "rocksdb.estimate-live-data-size", "rocksdb.total-sst-files-size",
        "rocksdb.cur-size-all-mem-tables", "rocksdb.block-cache-usage", "rocksdb.num-running-compactions",
        "rocksdb.num-running-flushes", "rocksdb.estimate-pending-compaction-bytes", "rocksdb.num-live-versions",
        "rocksdb.actual-delayed-write-rate", "rocksdb.is-write-stopped",
    };

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final org.rocksdb.Cache cache;
    private final BloomFilter bloom;
    private final Statistics statistics;
    private final Options options;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final ColumnFamilyOptions smallCfOptions;
    private final WriteOptions writeOptions;
    private final boolean orderedInserts;
    private final WriteOptions syncWriteOptions;
    private final ReadOptions readOptions;
    /** At most this many memtables share the data's write buffer (see the data column family's options). */
    static final int DATA_MEMTABLES = 16;
    /** The smallest data memtable: below it, flushes become many and small. */
    static final long MIN_MEMTABLE_BYTES = 1L << 20;
    /** L0 files that start a compaction into L1 (RocksDB's default: 4). */
    static final int L0_COMPACTION_TRIGGER = 8;
    /** Bytes of a data key that choose its memtable insert hint (see {@link #dataColumnFamilyOptions}). */
    static final int INSERT_HINT_PREFIX_BYTES = 1;
    private final RocksDB db;
    /** Recent values of the data in memory, in front of RocksDB; null when off. */
    private final ValueCache values;
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final ColumnFamilyHandle[] spaces = new ColumnFamilyHandle[Space.values().length];

    private RocksDbStore(Path dir, Settings s) throws RocksDBException {
        this.dir = dir;
        // HyperClockCache: lookups without the LRU list's mutex; with the data in SST files, an LRU
        // cache's lookup and list upkeep were ~10% of a shard's CPU under pipelined GETs.
        cache = new HyperClockCache(s.blockCacheBytes(), 0, -1, false);
        bloom = new BloomFilter(10);
        // Tickers only (the metrics read counters): with no histogram kept, RocksDB does not read the
        // clock twice around every Get and Write (3% of a shard's CPU under GETs).
        statistics = new Statistics(java.util.EnumSet.allOf(org.rocksdb.HistogramType.class));
        statistics.setStatsLevel(StatsLevel.EXCEPT_DETAILED_TIMERS);
        var table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setFilterPolicy(bloom)
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true)
                // A small hash index in each data block: a point lookup finds its key without a
                // binary search over the block's restart points.
                .setDataBlockIndexType(DataBlockIndexType.kDataBlockBinaryAndHash)
                .setDataBlockHashTableUtilRatio(0.75);
        options = new Options().setTableFormatConfig(table); // only for its table config; the DB uses the ones below
        dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setStatistics(statistics)
                .setMaxBackgroundJobs(2)
                .setBytesPerSync(1 << 20)
                // Each write inserts into two memtables: its data (random keys) and its log record
                // (sequential keys). Inserted by one thread per write group, a memtable keeps the
                // last insert's position and a sequential key lands next to it; concurrent inserts
                // search from the top every time. Profiled under redis-benchmark: see bench/README.md.
                .setAllowConcurrentMemtableWrite(false);
        orderedInserts = s.orderedInserts();
        cfOptions = dataColumnFamilyOptions(orderedInserts)
                .setTableFormatConfig(table)
                .setCompressionType(compression(s.compression()))
                // The data's memtable budget is spent on up to 16 small memtables (4 MiB each of the
                // default 64 MiB) rather than one large one, so that the one taking inserts stays in
                // the CPU caches: random inserts into one 64 MiB skiplist were half of a shard's CPU
                // under pipelined SETs, and still 27% with 8 MiB memtables (bench/README.md, rounds 2
                // and 12). Half of them are flushed together into one L0 file, so flushes and
                // compactions stay as large as with one memtable of half the budget. GETs check the
                // memtables newest first, each behind a bloom filter.
                .setWriteBufferSize(dataMemtableBytes(s.writeBufferBytes()))
                .setMaxWriteBufferNumber(dataMemtables(s.writeBufferBytes()))
                .setMinWriteBufferNumberToMerge(Math.max(1, dataMemtables(s.writeBufferBytes()) / 2))
                // A whole-key bloom filter over the memtable: a GET of a key the memtable does not
                // hold (most of them, once data outgrows it) skips the skiplist search, which was
                // the shard's hottest code under redis-benchmark GETs (bench/README.md).
                .setMemtablePrefixBloomSizeRatio(0.05)
                .setMemtableWholeKeyFiltering(true)
                // L0 files are compacted into L1 eight at a time rather than four: each such compaction
                // rewrites the L1 files its (random) keys overlap, about all of L1, so waiting for twice
                // the input halves how often L1 is rewritten. Under pipelined 1 KB SETs the bytes
                // compactions wrote per SET fell to 0.53x (bench/README.md, thirteenth round). A GET
                // that misses the value cache checks up to twice the L0 files, each behind its bloom
                // filter; writes still slow down at 20 L0 files and stop at 36 (RocksDB's defaults).
                .setLevel0FileNumCompactionTrigger(L0_COMPACTION_TRIGGER);
        // The replication log takes as many bytes as the data (every write is also a log record), the meta
        // column family few: a quarter of the data's budget each, two memtables at most (RocksDB's default).
        smallCfOptions = new ColumnFamilyOptions()
                .setWriteBufferSize(Math.max(1L << 20, Math.min(s.writeBufferBytes() / 4, 16L << 20)));
        writeOptions = new WriteOptions().setSync(s.syncWrites());
        syncWrites = s.syncWrites();
        syncWriteOptions = new WriteOptions().setSync(true);
        readOptions = new ReadOptions();
        var descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),  // DATA
                new ColumnFamilyDescriptor("log".getBytes(java.nio.charset.StandardCharsets.US_ASCII), smallCfOptions),
                new ColumnFamilyDescriptor("meta".getBytes(java.nio.charset.StandardCharsets.US_ASCII), smallCfOptions));
        db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        for (int i = 0; i < spaces.length; i++) spaces[i] = handles.get(i);
        values = s.valueCacheBytes() > 0 ? new ValueCache(s.valueCacheBytes()) : null;
    }

    /**
     * With ordered inserts, the data's memtable keeps an insert hint (the skiplist position of the last
     * insert) for each first byte of the key, that is for each 1/256th of the ring: an insert climbs from
     * the last insert of its part of the ring only as far as needed, rather than searching from the
     * skiplist's top, and a write batch's keys go in in key order (see {@link #insertOrder}). With one
     * hint for every key, a random key climbed to the top nearly every time and batches of 5-16 keys
     * cost the writing thread 8-16% more; one per first byte costs ~250 bytes of hint per byte value
     * per memtable (bench/README.md, fourteenth round). RocksJava has no setter for this option; RocksDB
     * takes it in its options-string form.
     */
    private static ColumnFamilyOptions dataColumnFamilyOptions(boolean orderedInserts) {
        if (!orderedInserts) return new ColumnFamilyOptions();
        var props = new java.util.Properties();
        props.setProperty("memtable_insert_with_hint_prefix_extractor", "rocksdb.FixedPrefix." + INSERT_HINT_PREFIX_BYTES);
        var options = ColumnFamilyOptions.getColumnFamilyOptionsFromProps(props);
        if (options == null) throw new StorageException("RocksDB refused memtable_insert_with_hint_prefix_extractor", null);
        return options;
    }

    private ColumnFamilyHandle cf(Space space) {
        return spaces[space.ordinal()];
    }

    /**
     * How many memtables the data's write buffer is split into: {@link #DATA_MEMTABLES}, fewer when the
     * budget would make them smaller than {@link #MIN_MEMTABLE_BYTES} (a pod with a small memory limit),
     * at least two (one taking writes while the other flushes).
     */
    static int dataMemtables(long writeBufferBytes) {
        return (int) Math.max(2, Math.min(DATA_MEMTABLES, writeBufferBytes / MIN_MEMTABLE_BYTES));
    }

    /** The size of each data memtable: the budget shared by {@link #dataMemtables}, at least {@link #MIN_MEMTABLE_BYTES}. */
    static long dataMemtableBytes(long writeBufferBytes) {
        return Math.max(MIN_MEMTABLE_BYTES, writeBufferBytes / dataMemtables(writeBufferBytes));
    }

    /** Opens (creating if needed) the database in dir. */
    public static RocksDbStore open(Path dir, Settings settings) {
        try {
            Files.createDirectories(dir);
            return new RocksDbStore(dir, settings);
        } catch (RocksDBException e) {
            throw new StorageException("cannot open RocksDB at " + dir + ": " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            throw new StorageException("cannot create data directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static CompressionType compression(Compression c) {
        return switch (c) {
            case NONE -> CompressionType.NO_COMPRESSION;
            case SNAPPY -> CompressionType.SNAPPY_COMPRESSION;
            case LZ4 -> CompressionType.LZ4_COMPRESSION;
            case ZSTD -> CompressionType.ZSTD_COMPRESSION;
        };
    }

    public Path directory() {
        return dir;
    }

    public Statistics statistics() {
        return statistics;
    }

    @Override
    public byte[] get(byte[] key) {
        return get(Space.DATA, key);
    }

    @Override
    public byte[] get(Space space, byte[] key) {
        if (space != Space.DATA || values == null) return dbGet(space, key);
        var got = new byte[1][];
        getMany(List.of(key), 0, got); // through the value cache, as a batch's reads go
        return got[0];
    }

    private byte[] dbGet(Space space, byte[] key) {
        try {
            return db.get(cf(space), readOptions, key);
        } catch (RocksDBException e) {
            throw fail("get", e);
        }
    }

    /** How many keys, and about how many bytes of values, one {@link #getMany} call reads at most. */
    static final int BATCH_KEYS = 64;
    static final long BATCH_BYTES = 512 << 10;

    private static final ThreadLocal<long[]> STAMPS = ThreadLocal.withInitial(() -> new long[BATCH_KEYS]);

    /**
     * Reads keys in order: a run of keys the value cache holds is answered from it; otherwise the run
     * of keys it does not hold is read from RocksDB, one Get per key, each no earlier than the one
     * before it, and the cache keeps the answers. At most {@link #BATCH_KEYS} keys, and it stops once
     * the values read reach {@link #BATCH_BYTES} (the value that reaches it is returned whole), so a
     * caller that stops early (a reply budget) has not read far past it.
     *
     * <p>One Get per key, not one RocksDB MultiGet per run: behind the cache, the keys of a batch
     * that miss it come in short runs between hits, and for short runs the JNI side of MultiGet (a
     * Java status object built per key, direct buffers filled and then copied again) cost more than
     * the lookups did. Paired A/B in a dev cluster (bench/README.md, sixth round): per-key Gets took
     * 0.74x the shards' CPU per request under unpipelined GETs and 0.75x under pipelined ones.
     * `make bench-reads` measures the two in-process, uncached.
     */
    @Override
    public int getMany(List<byte[]> keys, int from, byte[][] into) {
        int end = Math.min(keys.size(), from + BATCH_KEYS);
        long[] stamps = null;
        if (values != null) {
            int hits = values.lookup(keys, from, BATCH_KEYS, BATCH_BYTES, into);
            if (hits > 0) {
                for (int i = 0; i < hits; i++) if (into[i] == ValueCache.ABSENT) into[i] = null;
                return hits;
            }
            stamps = STAMPS.get();
            end = from + values.missing(keys, from, BATCH_KEYS, stamps); // the keys read below, and what the cache was before
        }
        int read = 0;
        long bytes = 0;
        for (int i = from; i < end && bytes < BATCH_BYTES; i++) {
            byte[] v = dbGet(Space.DATA, keys.get(i));
            into[read++] = v;
            if (v != null) bytes += v.length;
        }
        if (values != null) values.fill(keys, from, read, stamps, into);
        return read;
    }

    /**
     * For `make bench-reads` only: the values of keys[from..] by one RocksDB MultiGet into direct
     * buffers of 8 KiB per key, reused from call to call (how {@link #getMany} read before the sixth
     * round of issue 10), without the value cache. Returns how many it read; stops before a value
     * larger than its buffer.
     */
    public int multiGetForComparison(List<byte[]> keys, int from, byte[][] into) {
        var b = MULTI_GET_BUFFERS.get();
        b.keyArea.clear();
        b.keys.clear();
        b.values.clear();
        for (int i = from; i < keys.size() && b.keys.size() < BATCH_KEYS; i++) {
            byte[] k = keys.get(i);
            if (k.length > b.keyArea.remaining()) break;
            int at = b.keyArea.position();
            b.keyArea.put(k);
            b.keys.add(b.keyArea.slice(at, k.length));
            b.values.add(b.slots[b.values.size()].clear());
        }
        List<org.rocksdb.ByteBufferGetStatus> got;
        try {
            got = db.multiGetByteBuffers(readOptions, List.of(cf(Space.DATA)), b.keys, b.values);
        } catch (RocksDBException e) {
            throw fail("multiGet", e);
        }
        for (int i = 0; i < got.size(); i++) {
            var r = got.get(i);
            switch (r.status.getCode()) {
                case Ok -> {
                    if (r.requiredSize > MultiGetBuffers.SLOT_BYTES) return i;
                    byte[] v = new byte[r.requiredSize];
                    b.slots[i].get(0, v);
                    into[i] = v;
                }
                case NotFound -> into[i] = null;
                default -> throw new StorageException("RocksDB multiGet failed: " + r.status.getCodeString()
                        + (r.status.getState() == null ? "" : ": " + r.status.getState()), null);
            }
        }
        return got.size();
    }

    private static final class MultiGetBuffers {
        static final int SLOT_BYTES = 8 << 10;
        final java.nio.ByteBuffer keyArea = java.nio.ByteBuffer.allocateDirect(64 << 10);
        final java.nio.ByteBuffer[] slots = new java.nio.ByteBuffer[BATCH_KEYS];
        final List<java.nio.ByteBuffer> keys = new ArrayList<>(BATCH_KEYS);
        final List<java.nio.ByteBuffer> values = new ArrayList<>(BATCH_KEYS);

        MultiGetBuffers() {
            var area = java.nio.ByteBuffer.allocateDirect(BATCH_KEYS * SLOT_BYTES);
            for (int i = 0; i < BATCH_KEYS; i++) slots[i] = area.slice(i * SLOT_BYTES, SLOT_BYTES);
        }
    }

    private static final ThreadLocal<MultiGetBuffers> MULTI_GET_BUFFERS = ThreadLocal.withInitial(MultiGetBuffers::new);

    @Override
    public void put(byte[] key, byte[] value) {
        write(List.of(Mutation.put(key, value)), false);
    }

    @Override
    public void delete(byte[] key) {
        write(List.of(Mutation.delete(key)), false);
    }

    @Override
    public void write(List<Mutation> batch) {
        write(batch, false);
    }

    /**
     * With the value cache, each data key written leaves the cache before the write and comes back
     * with its new value after it (a range delete empties the cache): see {@link ValueCache}.
     */
    @Override
    public void write(List<Mutation> batch, boolean sync) {
        if (values == null) {
            dbWrite(batch, sync);
            return;
        }
        long[] tokens = values.beginWrite(batch);
        boolean done = false;
        try {
            dbWrite(batch, sync);
            done = true;
        } finally {
            values.endWrite(batch, tokens, done);
        }
    }

    /**
     * The batch's order for RocksDB: its keys in order within each column family, so that each memtable
     * insert starts from where the previous one left off (see the data column family's insert hint).
     * The sort is stable, so the last write of a key in the batch is still the one that stays. A batch
     * with a range delete keeps its order: a range delete and the puts after it must not trade places.
     */
    private List<Mutation> insertOrder(List<Mutation> batch) {
        if (!orderedInserts || batch.size() < 2) return batch;
        for (Mutation m : batch) if (m.range()) return batch;
        var sorted = new ArrayList<>(batch);
        sorted.sort(KEY_ORDER);
        return sorted;
    }

    private static final java.util.Comparator<Mutation> KEY_ORDER = (a, b) -> a.space() != b.space()
            ? Integer.compare(a.space().ordinal(), b.space().ordinal())
            : java.util.Arrays.compareUnsigned(a.key(), b.key());

    private void dbWrite(List<Mutation> batch, boolean sync) {
        try (var wb = new WriteBatch()) {
            for (Mutation m : insertOrder(batch)) {
                if (m.range()) deleteRange(wb, m);
                else if (m.value() == null) wb.delete(cf(m.space()), m.key());
                else wb.put(cf(m.space()), m.key(), m.value());
            }
            db.write(sync ? syncWriteOptions : writeOptions, wb);
        } catch (RocksDBException e) {
            throw fail("write batch", e);
        }
    }

    private void deleteRange(WriteBatch wb, Mutation m) throws RocksDBException {
        var h = cf(m.space());
        byte[] from = m.key() == null ? new byte[0] : m.key();
        if (m.value() != null) {
            wb.deleteRange(h, from, m.value());
            return;
        }
        // No upper bound: up to and including the last key present.
        try (RocksIterator it = db.newIterator(h, readOptions)) {
            it.seekToLast();
            if (!it.isValid() || java.util.Arrays.compareUnsigned(it.key(), from) < 0) return;
            byte[] last = it.key();
            wb.deleteRange(h, from, last);
            wb.delete(h, last);
        }
    }

    @Override
    public void scan(byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor) {
        scan(Space.DATA, fromInclusive, toExclusive, visitor);
    }

    @Override
    public void scan(Space space, byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor) {
        scanWith(space, null, fromInclusive, toExclusive, visitor);
    }

    private void scanWith(Space space, org.rocksdb.Snapshot snap, byte[] fromInclusive, byte[] toExclusive,
            EntryVisitor visitor) {
        try (var upper = toExclusive == null ? null : new Slice(toExclusive);
             var ro = new ReadOptions().setIterateUpperBound(upper).setSnapshot(snap);
             RocksIterator it = db.newIterator(cf(space), ro)) {
            if (fromInclusive == null) it.seekToFirst();
            else it.seek(fromInclusive);
            for (; it.isValid(); it.next()) {
                if (!visitor.visit(it.key(), it.value())) return;
            }
            it.status();
        } catch (RocksDBException e) {
            throw fail("scan", e);
        }
    }

    @Override
    public StoreSnapshot snapshot() {
        var snap = db.getSnapshot();
        return new StoreSnapshot() {
            @Override
            public void scan(Space space, byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor) {
                scanWith(space, snap, fromInclusive, toExclusive, visitor);
            }

            @Override
            public void close() {
                db.releaseSnapshot(snap);
            }
        };
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        deleteRange(Space.DATA, fromInclusive, toExclusive);
    }

    @Override
    public void deleteRange(Space space, byte[] fromInclusive, byte[] toExclusive) {
        if (space != Space.DATA || values == null) {
            dbDeleteRange(space, fromInclusive, toExclusive);
            return;
        }
        var range = List.of(Mutation.deleteRange(Space.DATA, fromInclusive, toExclusive));
        long[] tokens = values.beginWrite(range);
        boolean done = false;
        try {
            dbDeleteRange(space, fromInclusive, toExclusive);
            done = true;
        } finally {
            values.endWrite(range, tokens, done);
        }
    }

    private void dbDeleteRange(Space space, byte[] fromInclusive, byte[] toExclusive) {
        var h = cf(space);
        try {
            byte[] from = fromInclusive == null ? new byte[0] : fromInclusive;
            if (toExclusive == null) {
                // No upper bound: delete up to and including the last key present.
                try (RocksIterator it = db.newIterator(h, readOptions)) {
                    it.seekToLast();
                    if (!it.isValid()) return;
                    byte[] last = it.key();
                    db.deleteRange(h, writeOptions, from, last);
                    db.delete(h, writeOptions, last);
                }
            } else {
                db.deleteRange(h, writeOptions, from, toExclusive);
            }
        } catch (RocksDBException e) {
            throw fail("deleteRange", e);
        }
    }

    @Override
    public long estimatedKeys() {
        try {
            return db.getLongProperty(cf(Space.DATA), "rocksdb.estimate-num-keys");
        } catch (RocksDBException e) {
            throw fail("property", e);
        }
    }

    private final boolean syncWrites;
    private volatile long stallCheckedNanos = System.nanoTime() - STALL_CHECK_NANOS;
    private volatile boolean stalled;
    private static final long STALL_CHECK_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20);

    /** Fsynced writes, or RocksDB delaying or stopping writes (checked at most every 20 ms). */
    @Override
    public boolean writesMayBlock() {
        if (syncWrites) return true;
        long now = System.nanoTime();
        if (now - stallCheckedNanos >= STALL_CHECK_NANOS) {
            stallCheckedNanos = now;
            try {
                stalled = db.getLongProperty("rocksdb.actual-delayed-write-rate") > 0
                        || db.getLongProperty("rocksdb.is-write-stopped") != 0;
            } catch (RocksDBException e) {
                stalled = true;
            }
        }
        return stalled;
    }

    @Override
    public void keepWrittenValues(boolean keep) {
        if (values != null) values.keepWrittenValues(keep);
    }

    /** The value cache's entries, bytes, hits and misses; null when it is off. */
    public long[] valueCacheFigures() {
        return values == null ? null : values.figures();
    }

    public long longProperty(String name) {
        try {
            return db.getLongProperty(cf(Space.DATA), name);
        } catch (RocksDBException e) {
            throw fail("property " + name, e);
        }
    }

    @Override
    public Map<String, String> properties() {
        var out = new LinkedHashMap<String, String>();
        for (String p : PROPERTIES) {
            try {
                out.put(p, db.getProperty(cf(Space.DATA), p));
            } catch (RocksDBException e) {
                out.put(p, "unavailable: " + e.getMessage());
            }
        }
        if (values != null) {
            long[] f = values.figures();
            out.put("value-cache.capacity-bytes", Long.toString(values.maxBytes()));
            out.put("value-cache.entries", Long.toString(f[0]));
            out.put("value-cache.bytes", Long.toString(f[1]));
            out.put("value-cache.hits", Long.toString(f[2]));
            out.put("value-cache.misses", Long.toString(f[3]));
        }
        for (var t : List.of(TickerType.BYTES_WRITTEN, TickerType.BYTES_READ, TickerType.BLOCK_CACHE_HIT,
                TickerType.BLOCK_CACHE_MISS, TickerType.STALL_MICROS, TickerType.COMPACT_WRITE_BYTES)) {
            out.put("ticker." + t.name().toLowerCase(java.util.Locale.ROOT), Long.toString(statistics.getTickerCount(t)));
        }
        return out;
    }

    private StorageException fail(String op, RocksDBException e) {
        return new StorageException("RocksDB " + op + " failed in " + dir + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        // Close in reverse order of creation; the DB first so nothing uses the options after.
        var errors = new ArrayList<Throwable>();
        var closeables = new ArrayList<AutoCloseable>(handles);
        closeables.addAll(List.of(db, readOptions, writeOptions, syncWriteOptions, cfOptions, smallCfOptions, dbOptions,
                options, statistics, bloom, cache));
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                errors.add(e);
            }
        }
        if (!errors.isEmpty()) throw new StorageException("closing RocksDB at " + dir, errors.get(0));
    }
}
