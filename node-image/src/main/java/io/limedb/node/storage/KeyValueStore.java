package io.limedb.node.storage;

import java.util.List;
import java.util.Map;

/**
 * The storage engine as the shard sees it: ordered byte keys to byte values, with atomic batches,
 * range iteration and range deletion. Keys here are storage keys (see {@link StorageKeys}).
 */
public interface KeyValueStore extends AutoCloseable {

    /**
     * Whether a write may block its thread now: writes are fsynced, or the engine is holding writes
     * back (too many memtables or level-0 files waiting). Callers that run writes on an event loop
     * hand them to a worker while this holds; a store that cannot tell says true.
     */
    default boolean writesMayBlock() {
        return true;
    }

    /**
     * Whether a write also puts the written values in the store's value cache (true: a member that
     * serves reads) or only drops its keys from it (false). A store without a cache ignores it.
     */
    default void keepWrittenValues(boolean keep) {}

    /** Separate keyspaces of one store, written atomically together: user data, replication log, metadata. */
    enum Space { DATA, LOG, META }

    /**
     * A change in an atomic batch: a put when value is non-null, a delete otherwise; with
     * {@code range}, a delete of every key in [key, value) (null = unbounded on that side).
     */
    record Mutation(Space space, byte[] key, byte[] value, boolean range) {
        public Mutation(Space space, byte[] key, byte[] value) {
            this(space, key, value, false);
        }

        public static Mutation deleteRange(Space space, byte[] fromInclusive, byte[] toExclusive) {
            return new Mutation(space, fromInclusive, toExclusive, true);
        }

        public static Mutation put(byte[] key, byte[] value) {
            return new Mutation(Space.DATA, key, value);
        }

        public static Mutation delete(byte[] key) {
            return new Mutation(Space.DATA, key, null);
        }

        public static Mutation put(Space space, byte[] key, byte[] value) {
            return new Mutation(space, key, value);
        }

        public static Mutation delete(Space space, byte[] key) {
            return new Mutation(space, key, null);
        }
    }

    /** Receives entries of a range in key order; returns false to stop. */
    @FunctionalInterface
    interface EntryVisitor {
        boolean visit(byte[] key, byte[] value);
    }

    byte[] get(byte[] key);

    byte[] get(Space space, byte[] key);

    /**
     * Reads keys[from], keys[from + 1], ... in order, each no earlier than the one before it (no
     * write that landed before a key was read is missed by the keys after it), into into[0],
     * into[1], ... (null: absent). Reads a bounded run (a few dozen keys, or until the values read
     * reach a few hundred KiB, the last one whole) and returns how many it read: at least one when
     * from is within keys. into must have room for keys.size() - from values.
     */
    int getMany(List<byte[]> keys, int from, byte[][] into);

    void put(byte[] key, byte[] value);

    void delete(byte[] key);

    void write(List<Mutation> batch);

    /** Writes a batch, forcing an fsync of the WAL when sync is true (epochs, roles). */
    void write(List<Mutation> batch, boolean sync);

    /** Visits entries with fromInclusive <= key < toExclusive (null = unbounded) in order. */
    void scan(byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor);

    void scan(Space space, byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor);

    void deleteRange(byte[] fromInclusive, byte[] toExclusive);

    void deleteRange(Space space, byte[] fromInclusive, byte[] toExclusive);

    /** A consistent view of the data as of now; close it to release it. */
    StoreSnapshot snapshot();

    /** A point-in-time read view. */
    interface StoreSnapshot extends AutoCloseable {
        void scan(Space space, byte[] fromInclusive, byte[] toExclusive, EntryVisitor visitor);

        @Override
        void close();
    }

    long estimatedKeys();

    /** Engine figures worth reporting: sizes, memtables, cache usage, compaction state. */
    Map<String, String> properties();

    @Override
    void close();
}
