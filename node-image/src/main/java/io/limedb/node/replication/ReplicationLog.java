package io.limedb.node.replication;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.limedb.api.v1.EpochStart;
import io.limedb.api.v1.LogRecord;
import io.limedb.api.v1.Range;
import io.limedb.api.v1.RangeOwnership;
import io.limedb.core.ring.RingRange;
import io.limedb.node.reshard.Owned;
import io.limedb.node.storage.StorageKeys;
import io.limedb.node.storage.KeyValueStore;
import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.KeyValueStore.Space;
import io.limedb.node.storage.StorageException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The shard's replication log: every atomic write group as a record (seq, epoch, mutations), kept in
 * the LOG keyspace of the same RocksDB and written in the same batch as the data it describes, so
 * data and log never disagree. Also holds the persisted epoch and the epoch history (where each
 * epoch's records start), which is how a rejoining node finds where its log diverged.
 */
public final class ReplicationLog {
    private static final byte[] APPLIED = key("applied");   // last seq (8) + its epoch (8)
    private static final byte[] EPOCH = key("epoch");       // highest epoch seen (8)
    private static final byte[] HISTORY = key("epochs");    // (epoch, start seq) pairs
    private static final byte[] STORAGE_ID = key("storage-id");
    private static final byte[] CAUGHT_UP = key("caught-up"); // present once this storage holds a full copy
    private static final byte[] OWNED = key("owned/");      // + seq (8): the ranges owned from that record on

    private final KeyValueStore store;
    private final TreeMap<Long, Long> history = new TreeMap<>(); // epoch -> first seq written in it
    // Written under this object's lock, read without it: status and health never wait for a write.
    private volatile long lastSeq;
    private volatile long lastEpoch;
    private volatile long epoch;
    private volatile long firstSeq; // lowest seq still in the log
    private final String storageId;
    private volatile boolean caughtUp;
    private volatile Owned owned; // null: never told, serves every key
    // The newest records, in order, so replicas that keep up are fed without reading RocksDB; bounded
    // by count and by bytes (records of 16 MiB values would otherwise pin gigabytes). A replica that
    // keeps up is milliseconds behind; one further behind reads the log from RocksDB (its newest part
    // is still in the memtables). Kept small: every record held here outlives several young
    // collections and is copied into the old generation, and at 64 MiB (the size before the
    // thirteenth round) the tail was 130 MiB of a member's live heap (bench/README.md).
    private final RecentRecords recent = new RecentRecords();
    static final int CACHED_RECORDS = 1024;
    static final long CACHED_BYTES = 4L << 20;
    private final int maxCachedRecords;
    private final long maxCachedBytes;
    private long cachedBytes;

    public ReplicationLog(KeyValueStore store) {
        // At most a quarter of the heap: a shard pod's heap is a quarter of its memory limit.
        this(store, CACHED_RECORDS, Math.min(CACHED_BYTES, Runtime.getRuntime().maxMemory() / 4));
    }

    ReplicationLog(KeyValueStore store, int maxCachedRecords, long maxCachedBytes) {
        this.store = store;
        this.maxCachedRecords = maxCachedRecords;
        this.maxCachedBytes = maxCachedBytes;
        byte[] applied = store.get(Space.META, APPLIED);
        if (applied != null) {
            var b = ByteBuffer.wrap(applied);
            lastSeq = b.getLong();
            lastEpoch = b.getLong();
        }
        byte[] e = store.get(Space.META, EPOCH);
        epoch = e == null ? 0 : ByteBuffer.wrap(e).getLong();
        byte[] h = store.get(Space.META, HISTORY);
        if (h != null) {
            var b = ByteBuffer.wrap(h);
            while (b.remaining() >= 16) history.put(b.getLong(), b.getLong());
        }
        long[] first = {lastSeq + 1};
        store.scan(Space.LOG, null, null, (k, v) -> {
            first[0] = ByteBuffer.wrap(k).getLong();
            return false;
        });
        firstSeq = first[0];
        byte[] id = store.get(Space.META, STORAGE_ID);
        if (id == null) {
            // A new storage (or one from before storage ids, which is a full copy if it holds records).
            caughtUp = lastSeq > 0;
            var batch = new ArrayList<Mutation>();
            batch.add(Mutation.put(Space.META, STORAGE_ID, key(java.util.UUID.randomUUID().toString())));
            if (caughtUp) batch.add(Mutation.put(Space.META, CAUGHT_UP, new byte[] {1}));
            store.write(batch, true);
            id = store.get(Space.META, STORAGE_ID);
        } else {
            caughtUp = store.get(Space.META, CAUGHT_UP) != null;
        }
        storageId = new String(id, StandardCharsets.US_ASCII);
        owned = loadOwned();
    }

    private Owned loadOwned() {
        Owned[] last = {null};
        store.scan(Space.META, OWNED, ownedKey(-1L), (k, v) -> {
            try {
                last[0] = Owned.fromProto(RangeOwnership.parseFrom(v));
            } catch (InvalidProtocolBufferException e) {
                throw new StorageException("corrupt ownership record", e);
            }
            return true;
        });
        return last[0];
    }

    private static byte[] ownedKey(long seq) {
        return ByteBuffer.allocate(OWNED.length + 8).put(OWNED).putLong(seq).array();
    }

    /** A consistent view of the store at one log position, with what the shard owned there (null: never told). */
    public record View(KeyValueStore.StoreSnapshot data, long seq, long seqEpoch, Owned owned) implements AutoCloseable {
        @Override
        public void close() {
            data.close();
        }
    }

    /** A view of the data as of the last record (no append comes between the view and its seq); close it. */
    public synchronized View view() {
        return new View(store.snapshot(), lastSeq, lastEpoch, owned);
    }

    /** The ranges this shard owns, or null when it was never told (it serves every key). */
    public Owned owned() {
        return owned;
    }

    /** Made when this storage was created: a wiped data directory comes back as a different storage. */
    public String storageId() {
        return storageId;
    }

    /** Whether this storage has held a full copy of the shard at some point (see StatusResponse.caught_up). */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** Records (synced) that this storage now holds everything its primary had committed. */
    public synchronized void markCaughtUp() {
        if (caughtUp) return;
        store.write(List.of(Mutation.put(Space.META, CAUGHT_UP, new byte[] {1})), true);
        caughtUp = true;
    }

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] seqKey(long seq) {
        return ByteBuffer.allocate(8).putLong(seq).array();
    }

    public KeyValueStore store() {
        return store;
    }

    public long lastSeq() {
        return lastSeq;
    }

    public long lastEpoch() {
        return lastEpoch;
    }

    public long epoch() {
        return epoch;
    }

    public long firstSeq() {
        return firstSeq;
    }

    /** Persists a higher epoch (fsync) before anyone acts on it; returns false if it is not higher. */
    public synchronized boolean raiseEpoch(long e) {
        if (e <= epoch) return false;
        store.write(List.of(Mutation.put(Space.META, EPOCH, ByteBuffer.allocate(8).putLong(e).array())), true);
        epoch = e;
        return true;
    }

    /** Appends a record written by this node as primary, with its data, atomically. Returns its seq. */
    public synchronized long append(long recordEpoch, List<Mutation> data) {
        var record = LogRecord.newBuilder().setSeq(lastSeq + 1).setEpoch(recordEpoch);
        for (Mutation m : data) {
            var pm = io.limedb.api.v1.Mutation.newBuilder().setKey(ByteString.copyFrom(m.key()));
            if (m.value() == null) pm.setDelete(true);
            else pm.setValue(ByteString.copyFrom(m.value()));
            record.addMutations(pm);
        }
        write(List.of(record.build()), data);
        return lastSeq;
    }

    /** Appends a record that changes what the shard owns and drops ranges' data. Returns its seq. */
    public synchronized long appendRanges(long recordEpoch, RangeOwnership ownership, List<Range> drop) {
        var record = LogRecord.newBuilder().setSeq(lastSeq + 1).setEpoch(recordEpoch).addAllDrop(drop);
        if (ownership != null) record.setOwnership(ownership);
        write(List.of(record.build()), List.of());
        return lastSeq;
    }

    /** Applies records received from the primary, in order, with their data, atomically. */
    public synchronized void applyReplicated(List<LogRecord> records) {
        if (records.isEmpty()) return;
        var data = new ArrayList<Mutation>();
        long expected = lastSeq + 1;
        for (LogRecord r : records) {
            if (r.getSeq() != expected++) {
                throw new IllegalStateException("replication gap: expected seq " + (expected - 1) + ", got " + r.getSeq());
            }
            for (var m : r.getMutationsList()) {
                data.add(m.getDelete() ? Mutation.delete(m.getKey().toByteArray())
                        : Mutation.put(m.getKey().toByteArray(), m.getValue().toByteArray()));
            }
        }
        write(records, data);
    }

    private void write(List<LogRecord> records, List<Mutation> data) {
        var batch = new ArrayList<Mutation>(data.size() + records.size() + 2);
        batch.addAll(data);
        var newHistory = new TreeMap<>(history);
        Owned newOwned = owned;
        for (LogRecord r : records) {
            if (r.hasOwnership()) {
                batch.add(Mutation.put(Space.META, ownedKey(r.getSeq()), r.getOwnership().toByteArray()));
                newOwned = Owned.fromProto(r.getOwnership());
            }
            for (RingRange range : Owned.fromProto(r.getDropList())) {
                for (byte[][] iv : StorageKeys.intervals(range)) batch.add(Mutation.deleteRange(Space.DATA, iv[0], iv[1]));
            }
            batch.add(Mutation.put(Space.LOG, seqKey(r.getSeq()), r.toByteArray()));
            if (newHistory.isEmpty() || newHistory.lastKey() < r.getEpoch()) newHistory.put(r.getEpoch(), r.getSeq());
        }
        LogRecord last = records.get(records.size() - 1);
        batch.add(Mutation.put(Space.META, APPLIED, ByteBuffer.allocate(16).putLong(last.getSeq()).putLong(last.getEpoch()).array()));
        if (!newHistory.equals(history)) batch.add(Mutation.put(Space.META, HISTORY, encode(newHistory)));
        store.write(batch);
        history.clear();
        history.putAll(newHistory);
        owned = newOwned;
        lastSeq = last.getSeq();
        lastEpoch = last.getEpoch();
        for (LogRecord r : records) {
            recent.addLast(r);
            cachedBytes += r.getSerializedSize();
        }
        while (!recent.isEmpty() && (recent.size() > maxCachedRecords || cachedBytes > maxCachedBytes)) {
            cachedBytes -= recent.removeFirst().getSerializedSize();
        }
    }

    /** Records and bytes held in memory for replicas that keep up. */
    synchronized long[] cached() {
        return new long[] {recent.size(), cachedBytes};
    }

    private static byte[] encode(Map<Long, Long> h) {
        var b = ByteBuffer.allocate(16 * h.size());
        h.forEach((e, s) -> b.putLong(e).putLong(s));
        return b.array();
    }

    /** Records from seq on, at most max of them or about maxBytes. */
    public List<LogRecord> read(long from, int max, long maxBytes) {
        var recentOnes = readRecent(from, max, maxBytes);
        if (recentOnes != null) return recentOnes;
        var out = new ArrayList<LogRecord>();
        long[] bytes = {0};
        store.scan(Space.LOG, seqKey(from), null, (k, v) -> {
            try {
                out.add(LogRecord.parseFrom(v));
            } catch (InvalidProtocolBufferException e) {
                throw new StorageException("corrupt log record at seq " + ByteBuffer.wrap(k).getLong(), e);
            }
            bytes[0] += v.length;
            return out.size() < max && bytes[0] < maxBytes;
        });
        return out;
    }

    /** Like {@link #read}, from the in-memory tail only: null when from is older than the tail holds. */
    public synchronized List<LogRecord> readRecent(long from, int max, long maxBytes) {
        if (recent.isEmpty() || from < recent.peekFirst().getSeq()) return null;
        var out = new ArrayList<LogRecord>();
        long bytes = 0;
        for (int i = recent.indexOf(from); i < recent.size() && out.size() < max && bytes < maxBytes; i++) {
            var r = recent.get(i);
            out.add(r);
            bytes += r.getSerializedSize();
        }
        return out;
    }

    public synchronized List<EpochStart> history() {
        var out = new ArrayList<EpochStart>();
        history.forEach((e, s) -> out.add(EpochStart.newBuilder().setEpoch(e).setStartSeq(s).build()));
        return out;
    }

    /** Last seq this log holds from epochs up to and including e (0 if none). */
    public synchronized long endOfEpochsUpTo(long e) {
        var next = history.higherEntry(e);
        return next == null ? lastSeq : next.getValue() - 1;
    }

    /**
     * Where a replica's log stops agreeing with this one (the primary's): the replica's records after
     * the returned seq must go. Returns the replica's last seq when they agree.
     */
    public synchronized long divergencePoint(long replicaLastSeq, long replicaLastEpoch, List<EpochStart> replicaHistory) {
        if (replicaLastSeq == 0) return 0;
        var mine = history.floorEntry(replicaLastEpoch);
        if (mine == null) return 0; // nothing in common
        long myEnd = endOfEpochsUpTo(mine.getKey());
        if (mine.getKey() == replicaLastEpoch) return Math.min(myEnd, replicaLastSeq);
        // The replica's last epoch is unknown here: agree at most up to the end of our common epoch in its log.
        long replicaEnd = replicaLastSeq;
        for (EpochStart es : replicaHistory) {
            if (es.getEpoch() > mine.getKey()) {
                replicaEnd = es.getStartSeq() - 1;
                break;
            }
        }
        return Math.min(myEnd, Math.min(replicaEnd, replicaLastSeq));
    }

    /** The records after seq (to be dropped): the storage keys they touched and how many there are. */
    public synchronized Truncation divergentAfter(long seq) {
        var keys = new LinkedHashSet<ByteBuffer>();
        int[] count = {0};
        if (seq < lastSeq) {
            store.scan(Space.LOG, seqKey(seq + 1), null, (k, v) -> {
                try {
                    for (var m : LogRecord.parseFrom(v).getMutationsList()) keys.add(ByteBuffer.wrap(m.getKey().toByteArray()));
                } catch (InvalidProtocolBufferException e) {
                    throw new StorageException("corrupt log record", e);
                }
                count[0]++;
                return true;
            });
        }
        return new Truncation(keys, count[0]);
    }

    /**
     * Drops the records after seq and writes the repaired values of the keys they touched, in one
     * atomic, synced batch: a crash leaves either the old log and data or the new ones.
     */
    public synchronized void truncateAfter(long seq, List<Mutation> repaired) {
        if (seq >= lastSeq) return;
        long newEpoch = epochOf(seq);
        var newHistory = new TreeMap<>(history.headMap(newEpoch, true));
        var batch = new ArrayList<Mutation>(repaired);
        for (long s = seq + 1; s <= lastSeq; s++) batch.add(Mutation.delete(Space.LOG, seqKey(s)));
        batch.add(Mutation.put(Space.META, APPLIED, ByteBuffer.allocate(16).putLong(seq).putLong(newEpoch).array()));
        batch.add(Mutation.put(Space.META, HISTORY, encode(newHistory)));
        batch.add(Mutation.deleteRange(Space.META, ownedKey(seq + 1), ownedKey(-1L)));
        store.write(batch, true);
        history.clear();
        history.putAll(newHistory);
        owned = loadOwned(); // an ownership change in the dropped records is undone
        lastSeq = seq;
        lastEpoch = newEpoch;
        while (!recent.isEmpty() && recent.peekLast().getSeq() > seq) cachedBytes -= recent.removeLast().getSerializedSize();
    }

    /** What a truncation removed. */
    public record Truncation(Set<ByteBuffer> keys, int records) {}

    private long epochOf(long seq) {
        long e = 0;
        for (var entry : history.entrySet()) {
            if (entry.getValue() <= seq) e = entry.getKey();
        }
        return e;
    }

    /**
     * Before a snapshot copy replaces the data: forget the log and position (synced), so a crash in
     * the middle of the copy restarts from nothing rather than from a position the data no longer has.
     */
    public synchronized void forgetPosition() {
        if (caughtUp) {
            store.write(List.of(Mutation.delete(Space.META, CAUGHT_UP)), true);
            caughtUp = false; // its data is about to go: until the copy is done it proves nothing
        }
        resetTo(0, 0, List.of());
    }

    /** After a snapshot copy: the data now reflects seq (of epoch seqEpoch); the log restarts after it. */
    public synchronized void resetTo(long seq, long seqEpoch, List<EpochStart> primaryHistory) {
        resetTo(seq, seqEpoch, primaryHistory, null);
    }

    /** The same, with what the primary owned at seq (null: it was never told). */
    public synchronized void resetTo(long seq, long seqEpoch, List<EpochStart> primaryHistory, RangeOwnership ownership) {
        store.deleteRange(Space.LOG, null, null);
        var newHistory = new TreeMap<Long, Long>();
        for (EpochStart es : primaryHistory) if (es.getStartSeq() <= seq) newHistory.put(es.getEpoch(), es.getStartSeq());
        var batch = new ArrayList<Mutation>(List.of(
                Mutation.put(Space.META, APPLIED, ByteBuffer.allocate(16).putLong(seq).putLong(seqEpoch).array()),
                Mutation.put(Space.META, HISTORY, encode(newHistory)),
                Mutation.deleteRange(Space.META, OWNED, ownedKey(-1L))));
        if (ownership != null) batch.add(Mutation.put(Space.META, ownedKey(seq), ownership.toByteArray()));
        store.write(batch, true);
        owned = ownership == null ? null : Owned.fromProto(ownership);
        history.clear();
        history.putAll(newHistory);
        lastSeq = seq;
        lastEpoch = seqEpoch;
        firstSeq = seq + 1;
        recent.clear();
        cachedBytes = 0;
    }

    /** Keeps at most retain records: older ones are deleted (a replica that needs them copies a snapshot). */
    public synchronized void trim(long retain) {
        long keepFrom = lastSeq - retain + 1;
        if (keepFrom <= firstSeq) return;
        store.deleteRange(Space.LOG, seqKey(firstSeq), seqKey(keepFrom));
        firstSeq = keepFrom;
        while (!recent.isEmpty() && recent.peekFirst().getSeq() < keepFrom) {
            cachedBytes -= recent.removeFirst().getSerializedSize();
        }
    }

    /**
     * The newest records, oldest first, in a ring: a replica's next read starts at its position found
     * by binary search (seqs only grow), not by walking past every older record under the log's lock.
     */
    private static final class RecentRecords {
        private LogRecord[] ring = new LogRecord[64];
        private int head; // index of the oldest
        private int size;

        boolean isEmpty() {
            return size == 0;
        }

        int size() {
            return size;
        }

        LogRecord get(int i) {
            return ring[(head + i) & (ring.length - 1)];
        }

        LogRecord peekFirst() {
            return size == 0 ? null : get(0);
        }

        LogRecord peekLast() {
            return size == 0 ? null : get(size - 1);
        }

        void addLast(LogRecord r) {
            if (size == ring.length) {
                var bigger = new LogRecord[ring.length * 2];
                for (int i = 0; i < size; i++) bigger[i] = get(i);
                ring = bigger;
                head = 0;
            }
            ring[(head + size) & (ring.length - 1)] = r;
            size++;
        }

        LogRecord removeFirst() {
            LogRecord r = ring[head];
            ring[head] = null;
            head = (head + 1) & (ring.length - 1);
            size--;
            return r;
        }

        LogRecord removeLast() {
            int i = (head + size - 1) & (ring.length - 1);
            LogRecord r = ring[i];
            ring[i] = null;
            size--;
            return r;
        }

        void clear() {
            java.util.Arrays.fill(ring, null);
            head = 0;
            size = 0;
        }

        /** Index of the first record with a seq at or after the given one (size when there is none). */
        int indexOf(long seq) {
            int lo = 0, hi = size;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (get(mid).getSeq() < seq) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }
}
