package io.limedb.node.storage;

import io.limedb.node.config.NodeConfig.Compression;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.LRUCache;
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

    /** Tunables of the engine; see the matching keys in NodeConfig. */
    public record Settings(Compression compression, long blockCacheBytes, long writeBufferBytes, boolean syncWrites) {
        public static Settings defaults() {
            return new Settings(Compression.LZ4, 128L << 20, 64L << 20, false);
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
    private final LRUCache cache;
    private final BloomFilter bloom;
    private final Statistics statistics;
    private final Options options;
    private final WriteOptions writeOptions;
    private final ReadOptions readOptions;
    private final RocksDB db;

    private RocksDbStore(Path dir, Settings s) throws RocksDBException {
        this.dir = dir;
        cache = new LRUCache(s.blockCacheBytes());
        bloom = new BloomFilter(10);
        statistics = new Statistics();
        statistics.setStatsLevel(StatsLevel.EXCEPT_DETAILED_TIMERS);
        var table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setFilterPolicy(bloom)
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true);
        options = new Options()
                .setCreateIfMissing(true)
                .setStatistics(statistics)
                .setTableFormatConfig(table)
                .setCompressionType(compression(s.compression()))
                .setWriteBufferSize(s.writeBufferBytes())
                .setMaxBackgroundJobs(2)
                .setBytesPerSync(1 << 20);
        writeOptions = new WriteOptions().setSync(s.syncWrites());
        readOptions = new ReadOptions();
        db = RocksDB.open(options, dir.toString());
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
        try {
            return db.get(readOptions, key);
        } catch (RocksDBException e) {
            throw fail("get", e);
        }
    }

    @Override
    public List<byte[]> multiGet(List<byte[]> keys) {
        try {
            return db.multiGetAsList(readOptions, keys);
        } catch (RocksDBException e) {
            throw fail("multiGet", e);
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        try {
            db.put(writeOptions, key, value);
        } catch (RocksDBException e) {
            throw fail("put", e);
        }
    }

    @Override
    public void delete(byte[] key) {
        try {
            db.delete(writeOptions, key);
        } catch (RocksDBException e) {
            throw fail("delete", e);
        }
    }

    @Override
    public void write(List<Mutation> batch) {
        try (var wb = new WriteBatch()) {
            for (Mutation m : batch) {
                if (m.value() == null) wb.delete(m.key());
                else wb.put(m.key(), m.value());
            }
            db.write(writeOptions, wb);
        } catch (RocksDBException e) {
            throw fail("write batch", e);
        }
    }

    @Override
    public void scan(byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor) {
        try (var upper = toExclusive == null ? null : new Slice(toExclusive);
             var ro = new ReadOptions().setIterateUpperBound(upper);
             RocksIterator it = db.newIterator(ro)) {
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
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        try {
            byte[] from = fromInclusive == null ? new byte[0] : fromInclusive;
            if (toExclusive == null) {
                // No upper bound: delete up to and including the last key present.
                try (RocksIterator it = db.newIterator(readOptions)) {
                    it.seekToLast();
                    if (!it.isValid()) return;
                    byte[] last = it.key();
                    db.deleteRange(writeOptions, from, last);
                    db.delete(writeOptions, last);
                }
            } else {
                db.deleteRange(writeOptions, from, toExclusive);
            }
        } catch (RocksDBException e) {
            throw fail("deleteRange", e);
        }
    }

    @Override
    public long estimatedKeys() {
        try {
            return db.getLongProperty("rocksdb.estimate-num-keys");
        } catch (RocksDBException e) {
            throw fail("property", e);
        }
    }

    public long longProperty(String name) {
        try {
            return db.getLongProperty(name);
        } catch (RocksDBException e) {
            throw fail("property " + name, e);
        }
    }

    @Override
    public Map<String, String> properties() {
        var out = new LinkedHashMap<String, String>();
        for (String p : PROPERTIES) {
            try {
                out.put(p, db.getProperty(p));
            } catch (RocksDBException e) {
                out.put(p, "unavailable: " + e.getMessage());
            }
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
        for (AutoCloseable c : new AutoCloseable[] {db, readOptions, writeOptions, options, statistics, bloom, cache}) {
            try {
                c.close();
            } catch (Exception e) {
                errors.add(e);
            }
        }
        if (!errors.isEmpty()) throw new StorageException("closing RocksDB at " + dir, errors.get(0));
    }
}
