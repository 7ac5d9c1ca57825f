package io.limedb.node.storage;

import java.util.List;
import java.util.Map;

/**
 * The storage engine as the shard sees it: ordered byte keys to byte values, with atomic batches,
 * range iteration and range deletion. Keys here are storage keys (see {@link StorageKeys}).
 */
public interface KeyValueStore extends AutoCloseable {

    /** A change in an atomic batch: a put when value is non-null, a delete otherwise. */
    record Mutation(byte[] key, byte[] value) {
        public static Mutation put(byte[] key, byte[] value) {
            return new Mutation(key, value);
        }

        public static Mutation delete(byte[] key) {
            return new Mutation(key, null);
        }
    }

    /** Receives entries of a range in key order; returns false to stop. */
    @FunctionalInterface
    interface EntryVisitor {
        boolean visit(byte[] key, byte[] value);
    }

    byte[] get(byte[] key);

    List<byte[]> multiGet(List<byte[]> keys);

    void put(byte[] key, byte[] value);

    void delete(byte[] key);

    void write(List<Mutation> batch);

    /** Visits entries with fromInclusive <= key < toExclusive (null = unbounded) in order. */
    void scan(byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor);

    void deleteRange(byte[] fromInclusive, byte[] toExclusive);

    long estimatedKeys();

    /** Engine figures worth reporting: sizes, memtables, cache usage, compaction state. */
    Map<String, String> properties();

    @Override
    void close();
}
