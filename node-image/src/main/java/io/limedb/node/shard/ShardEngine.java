package io.limedb.node.shard;

import com.google.protobuf.ByteString;
import io.limedb.api.v1.DeleteResponse;
import io.limedb.api.v1.GetResponse;
import io.limedb.api.v1.IncrementResponse;
import io.limedb.api.v1.KeyValue;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.OpResult;
import io.limedb.api.v1.PutCondition;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.PutResponse;
import io.limedb.api.v1.StatsResponse;
import io.limedb.api.v1.WriteBatchResponse;
import io.limedb.api.v1.WriteOp;
import io.limedb.core.ring.RingRange;
import io.limedb.node.config.Limits;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.replication.ReplicationSettings;
import io.limedb.node.replication.ShardReplication;
import io.limedb.node.storage.KeyValueStore;
import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.RocksDbStore;
import io.limedb.node.storage.StorageException;
import io.limedb.node.storage.StorageKeys;
import io.limedb.node.storage.StoredValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The shard's one request path, below every RPC: validation, expiry, conditional writes and
 * read-modify-write. Writes to one key are serialized by a striped lock so that an increment or a
 * conditional put never interleaves with another write of the same key.
 */
public final class ShardEngine {
    private static final int STRIPES = 1024;

    private final String nodeId;
    private final KeyValueStore store;
    private final ShardReplication replication;
    private final Limits limits;
    private final LongSupplier clockMs;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final OpResult replyFull; // the answer of an operation not run because the reply was full

    /** A standalone shard (no replication). */
    public ShardEngine(String nodeId, KeyValueStore store, Limits limits, LongSupplier clockMs) {
        this(nodeId, store, new ShardReplication(nodeId, store, ReplicationSettings.standalone()), limits, clockMs);
    }

    public ShardEngine(String nodeId, KeyValueStore store, ShardReplication replication, Limits limits,
            LongSupplier clockMs) {
        this.nodeId = nodeId;
        this.store = store;
        this.replication = replication;
        this.limits = limits;
        this.clockMs = clockMs;
        for (int i = 0; i < STRIPES; i++) stripes[i] = new ReentrantLock();
        this.replyFull = OpResult.newBuilder().setError(new LimeException(ErrorCode.REPLY_FULL,
                "the reply to this batch reached its budget of " + limits.replyBudgetBytes()
                        + " bytes (limits.reply.bytes); not run, send it again").toProto()).build();
    }

    public KeyValueStore store() {
        return store;
    }

    public ShardReplication replication() {
        return replication;
    }

    /**
     * Runs a batch of independent operations in order. Consecutive unconditional puts are written as
     * one RocksDB write batch (one WAL write: group commit) of up to about
     * {@link Limits#REPLICATION_CHUNK_BYTES}, so that its log record stays small; any other operation
     * first flushes them, so every operation sees the ones before it.
     *
     * <p>The reply is bounded by {@link Limits#replyBudgetBytes()}: once the answers reach it, the
     * remaining GETs are not run and answer {@link ErrorCode#REPLY_FULL} (the first GET always runs, so
     * a single value always fits). Writes still run, except one on the key of a GET not run: it would
     * overtake that read when the read is sent again, so it answers REPLY_FULL too.
     */
    public List<OpResult> executeAll(List<Op> ops) {
        long budget = limits.replyBudgetBytes();
        if ((long) ops.size() * Limits.SMALL_ANSWER_BYTES >= budget) {
            throw new LimeException(ErrorCode.TOO_LARGE, "too many operations in one batch: " + ops.size()
                    + ", their answers alone could pass the reply budget of " + budget
                    + " bytes (limits.reply.bytes); send at most " + ((budget - 1) / Limits.SMALL_ANSWER_BYTES) + " per batch");
        }
        var results = new OpResult[ops.size()];
        var group = new ArrayList<Integer>();
        var mutations = new ArrayList<Mutation>();
        long groupBytes = 0;
        long reply = (long) ops.size() * Limits.SMALL_ANSWER_BYTES; // every answer, as small until a GET reads a value
        boolean answeredGet = false;
        Set<ByteString> held = null; // keys of GETs not run
        var owned = replication.log().owned();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            if (held != null && held.contains(keyOf(op))) {
                results[i] = replyFull;
                continue;
            }
            if (op.getOpCase() == Op.OpCase.GET) {
                writeGroup(group, mutations, results);
                groupBytes = 0;
                // This GET and those right after it are read together, in order.
                int end = i + 1;
                while (end < ops.size() && ops.get(end).getOpCase() == Op.OpCase.GET) end++;
                var keys = new ArrayList<byte[]>(end - i);
                var at = new int[end - i];
                for (int j = i; j < end; j++) {
                    ByteString key = ops.get(j).getGet().getKey();
                    if (held != null && held.contains(key)) {
                        results[j] = replyFull;
                        continue;
                    }
                    try {
                        limits.checkKey(key.size());
                    } catch (LimeException e) {
                        results[j] = OpResult.newBuilder().setError(e.toProto()).build();
                        continue;
                    }
                    at[keys.size()] = j;
                    keys.add(StorageKeys.encode(key.toByteArray()));
                }
                var reads = new OrderedReads(keys);
                for (int k = 0; k < keys.size(); k++) {
                    int j = at[k];
                    if (answeredGet && reply >= budget) { // not run: sent back to be sent again
                        if (held == null) held = new HashSet<>();
                        held.add(ops.get(j).getGet().getKey());
                        results[j] = replyFull;
                        continue;
                    }
                    try {
                        results[j] = answer(reads.next());
                    } catch (RuntimeException e) {
                        results[j] = OpResult.newBuilder().setError(asLime(e).toProto()).build();
                    }
                    reply += results[j].getSerializedSize();
                    answeredGet = true;
                }
                i = end - 1;
                continue;
            }
            if (op.getOpCase() == Op.OpCase.PUT && op.getPut().getCondition() == PutCondition.ALWAYS) {
                var put = op.getPut();
                try {
                    limits.checkKey(put.getKey().size());
                    limits.checkValue(put.getValue().size());
                    if (put.getExpireAtMs() < 0) throw new LimeException(ErrorCode.INVALID_ARGUMENT, "negative expiry");
                } catch (LimeException e) {
                    results[i] = OpResult.newBuilder().setError(e.toProto()).build();
                    continue;
                }
                if (groupBytes >= Limits.REPLICATION_CHUNK_BYTES || group.size() >= limits.maxMultiKeys()) {
                    writeGroup(group, mutations, results);
                    groupBytes = 0;
                }
                byte[] sk = StorageKeys.encode(put.getKey().toByteArray());
                // Refused here, alone, rather than failing its whole group under the log lock. Other
                // operations are checked where they read (after reading) and write (under the lock).
                if (owned != null && !owned.owns(StorageKeys.position(sk))) {
                    results[i] = OpResult.newBuilder().setError(replication.moved(owned).toProto()).build();
                    continue;
                }
                mutations.add(Mutation.put(sk, new StoredValue(put.getValue().toByteArray(), put.getExpireAtMs()).encode()));
                group.add(i);
                groupBytes += put.getKey().size() + put.getValue().size() + 32;
                continue;
            }
            writeGroup(group, mutations, results);
            groupBytes = 0;
            results[i] = execute(op);
        }
        writeGroup(group, mutations, results);
        return Arrays.asList(results);
    }

    /** The user key an operation touches. */
    static ByteString keyOf(Op op) {
        return switch (op.getOpCase()) {
            case GET -> op.getGet().getKey();
            case PUT -> op.getPut().getKey();
            case DELETE -> op.getDelete().getKey();
            case INCREMENT -> op.getIncrement().getKey();
            case OP_NOT_SET -> ByteString.EMPTY;
        };
    }

    /**
     * Reads storage keys in order, a run at a time ({@link KeyValueStore#getMany}: from the value
     * cache, or one RocksDB Get per key), handing out one value at a time. Each key's ownership is
     * checked after its read, as in {@link #read}: a key given away answers MOVED. No key is read from
     * older data than the one before it. Holds one run of values at most, so a caller that stops
     * early (reply budget) has not read far past it.
     */
    private final class OrderedReads {
        private final List<byte[]> keys;
        private final byte[][] batch;
        private int index; // of the next key
        private int pos;
        private int count;

        OrderedReads(List<byte[]> keys) {
            this.keys = keys;
            this.batch = new byte[keys.size()][];
        }

        /** The raw value of the next key (null: absent); throws what reading it ran into, and moves on. */
        byte[] next() {
            int k = index++;
            if (pos == count) {
                pos = 0;
                count = store.getMany(keys, k, batch);
                if (count < 1) throw new IllegalStateException("getMany read no key"); // it reads at least one
            }
            byte[] raw = batch[pos++];
            checkOwned(keys.get(k));
            return raw;
        }
    }

    /** A GET's answer in a batch, from the raw value read for its key. */
    private OpResult answer(byte[] raw) {
        return OpResult.newBuilder().setGet(found(raw, clockMs.getAsLong())).build();
    }

    /** What a GET answers for the raw value read (null: absent), at nowMs. */
    private static GetResponse found(byte[] raw, long nowMs) {
        StoredValue v = raw == null ? null : StoredValue.decode(raw);
        if (v == null || v.expiredAt(nowMs)) return GetResponse.getDefaultInstance();
        // decode() made v.value() for this answer alone: wrapped, not copied again.
        return GetResponse.newBuilder().setFound(true)
                .setValue(com.google.protobuf.UnsafeByteOperations.unsafeWrap(v.value())).build();
    }

    private static final OpResult APPLIED = OpResult.newBuilder().setPut(PutResponse.newBuilder().setApplied(true)).build();

    private void writeGroup(List<Integer> group, List<Mutation> mutations, OpResult[] results) {
        if (group.isEmpty()) return;
        var locks = new TreeSet<Integer>();
        mutations.forEach(m -> locks.add(stripeOf(m.key())));
        OpResult outcome = APPLIED;
        locks.forEach(i -> stripes[i].lock()); // ascending order: no deadlock with other batches
        try {
            replication.write(new ArrayList<>(mutations));
        } catch (RuntimeException e) {
            outcome = OpResult.newBuilder().setError(asLime(e).toProto()).build();
        } finally {
            locks.descendingSet().forEach(i -> stripes[i].unlock());
        }
        for (int i : group) results[i] = outcome;
        group.clear();
        mutations.clear();
    }

    /** Runs one operation of a batch; a failure becomes that operation's error result. */
    public OpResult execute(Op op) {
        try {
            return switch (op.getOpCase()) {
                case GET -> OpResult.newBuilder().setGet(get(op.getGet().getKey().toByteArray())).build();
                case PUT -> OpResult.newBuilder().setPut(put(op.getPut())).build();
                case DELETE -> OpResult.newBuilder().setDelete(delete(op.getDelete().getKey().toByteArray())).build();
                case INCREMENT -> OpResult.newBuilder().setIncrement(
                        increment(op.getIncrement().getKey().toByteArray(), op.getIncrement().getDelta())).build();
                case OP_NOT_SET -> throw new LimeException(ErrorCode.INVALID_ARGUMENT, "empty operation");
            };
        } catch (RuntimeException e) {
            return OpResult.newBuilder().setError(asLime(e).toProto()).build();
        }
    }

    public GetResponse get(byte[] key) {
        limits.checkKey(key.length);
        StoredValue v = read(StorageKeys.encode(key));
        return v == null ? GetResponse.getDefaultInstance()
                : GetResponse.newBuilder().setFound(true).setValue(ByteString.copyFrom(v.value())).build();
    }

    /**
     * The values of the keys, in order. The answer is at most {@link Limits#replyBudgetBytes()} (or one
     * value): past it the call fails with TOO_LARGE, naming the limit, having held at most one batch of
     * values more (see {@link KeyValueStore#getMany}).
     */
    public List<GetResponse> multiGet(List<byte[]> keys) {
        limits.checkCount(keys.size());
        var storageKeys = new ArrayList<byte[]>(keys.size());
        for (byte[] k : keys) {
            limits.checkKey(k.length);
            storageKeys.add(StorageKeys.encode(k));
            checkOwned(storageKeys.get(storageKeys.size() - 1));
        }
        long budget = limits.replyBudgetBytes();
        long now = clockMs.getAsLong();
        long bytes = 0;
        var out = new ArrayList<GetResponse>(keys.size());
        var reads = new OrderedReads(storageKeys); // what is held stays within the budget plus one batch of values
        for (int i = 0; i < storageKeys.size(); i++) {
            var answer = found(reads.next(), now);
            bytes += answer.getSerializedSize() + 8;
            if (bytes > budget && !out.isEmpty()) {
                throw new LimeException(ErrorCode.TOO_LARGE, "reply too large: the values of the first " + (out.size() + 1)
                        + " of " + keys.size() + " keys take " + bytes + " bytes, limit " + budget
                        + " (limits.reply.bytes); ask for fewer keys per call");
            }
            out.add(answer);
        }
        for (byte[] sk : storageKeys) checkOwned(sk); // after the reads, as in read()
        return out;
    }

    public PutResponse put(PutRequest req) {
        byte[] key = req.getKey().toByteArray();
        limits.checkKey(key.length);
        limits.checkValue(req.getValue().size());
        if (req.getExpireAtMs() < 0) throw new LimeException(ErrorCode.INVALID_ARGUMENT, "negative expiry");
        byte[] sk = StorageKeys.encode(key);
        byte[] encoded = new StoredValue(req.getValue().toByteArray(), req.getExpireAtMs()).encode();
        var lock = lockFor(sk);
        lock.lock();
        try {
            if (req.getCondition() != PutCondition.ALWAYS) {
                boolean exists = read(sk) != null;
                if (req.getCondition() == PutCondition.IF_ABSENT ? exists : !exists) {
                    return PutResponse.newBuilder().setApplied(false).build();
                }
            }
            replication.write(List.of(Mutation.put(sk, encoded)));
            return PutResponse.newBuilder().setApplied(true).build();
        } finally {
            lock.unlock();
        }
    }

    public DeleteResponse delete(byte[] key) {
        limits.checkKey(key.length);
        byte[] sk = StorageKeys.encode(key);
        var lock = lockFor(sk);
        lock.lock();
        try {
            boolean existed = read(sk) != null;
            if (existed) replication.write(List.of(Mutation.delete(sk)));
            return DeleteResponse.newBuilder().setExisted(existed).build();
        } finally {
            lock.unlock();
        }
    }

    public IncrementResponse increment(byte[] key, long delta) {
        limits.checkKey(key.length);
        byte[] sk = StorageKeys.encode(key);
        var lock = lockFor(sk);
        lock.lock();
        try {
            StoredValue old = read(sk);
            long current = old == null ? 0 : parseLong(old.value());
            long next;
            try {
                next = Math.addExact(current, delta);
            } catch (ArithmeticException e) {
                throw new LimeException(ErrorCode.OVERFLOW, "increment or decrement would overflow");
            }
            long expiry = old == null ? 0 : old.expireAtMs(); // like Redis, INCR keeps the key's TTL
            replication.write(List.of(Mutation.put(sk,
                    new StoredValue(Long.toString(next).getBytes(StandardCharsets.US_ASCII), expiry).encode())));
            return IncrementResponse.newBuilder().setValue(next).build();
        } finally {
            lock.unlock();
        }
    }

    /** Applies puts and deletes atomically (one RocksDB write batch). */
    public WriteBatchResponse writeBatch(List<WriteOp> ops) {
        limits.checkCount(ops.size());
        var mutations = new ArrayList<Mutation>(ops.size());
        var locks = new TreeSet<Integer>();
        int puts = 0, deletes = 0;
        for (WriteOp op : ops) {
            switch (op.getOpCase()) {
                case PUT -> {
                    var p = op.getPut();
                    limits.checkKey(p.getKey().size());
                    limits.checkValue(p.getValue().size());
                    if (p.getCondition() != PutCondition.ALWAYS) {
                        throw new LimeException(ErrorCode.INVALID_ARGUMENT, "conditional puts are not allowed in a batch");
                    }
                    byte[] sk = StorageKeys.encode(p.getKey().toByteArray());
                    mutations.add(Mutation.put(sk, new StoredValue(p.getValue().toByteArray(), p.getExpireAtMs()).encode()));
                    locks.add(stripeOf(sk));
                    puts++;
                }
                case DELETE -> {
                    limits.checkKey(op.getDelete().getKey().size());
                    byte[] sk = StorageKeys.encode(op.getDelete().getKey().toByteArray());
                    mutations.add(Mutation.delete(sk));
                    locks.add(stripeOf(sk));
                    deletes++;
                }
                case OP_NOT_SET -> throw new LimeException(ErrorCode.INVALID_ARGUMENT, "empty write operation");
            }
        }
        locks.forEach(i -> stripes[i].lock()); // ascending order: no deadlock between batches
        try {
            replication.write(mutations);
        } finally {
            locks.descendingSet().forEach(i -> stripes[i].unlock());
        }
        return WriteBatchResponse.newBuilder().setApplied(puts).setDeleted(deletes).build();
    }

    /**
     * Streams the live entries of a ring range in chunks of at most chunkSize entries and about
     * chunkBytes (a larger entry goes alone).
     */
    public void scan(RingRange range, int limit, boolean keysOnly, int chunkSize, long chunkBytes,
            Consumer<List<KeyValue>> sink) {
        long now = clockMs.getAsLong();
        var chunk = new ArrayList<KeyValue>(chunkSize);
        int[] sent = {0};
        long[] bytes = {0};
        for (byte[][] interval : StorageKeys.intervals(range)) {
            store.scan(interval[0], interval[1], (k, raw) -> {
                StoredValue v = StoredValue.decode(raw);
                if (v.expiredAt(now)) return true;
                var kv = KeyValue.newBuilder().setKey(ByteString.copyFrom(StorageKeys.userKey(k)))
                        .setExpireAtMs(v.expireAtMs());
                if (!keysOnly) kv.setValue(ByteString.copyFrom(v.value()));
                var entry = kv.build();
                chunk.add(entry);
                sent[0]++;
                bytes[0] += entry.getSerializedSize() + 8;
                if (chunk.size() >= chunkSize || bytes[0] >= chunkBytes) {
                    sink.accept(List.copyOf(chunk));
                    chunk.clear();
                    bytes[0] = 0;
                }
                return limit <= 0 || sent[0] < limit;
            });
            if (limit > 0 && sent[0] >= limit) break;
        }
        if (!chunk.isEmpty()) sink.accept(List.copyOf(chunk));
    }

    public StatsResponse stats() {
        var b = StatsResponse.newBuilder().setNodeId(nodeId).setEstimatedKeys(store.estimatedKeys())
                .putAllRocksdbProperties(store.properties());
        if (store instanceof RocksDbStore r) {
            b.setLiveDataBytes(r.longProperty("rocksdb.estimate-live-data-size"))
                    .setSstFilesBytes(r.longProperty("rocksdb.total-sst-files-size"))
                    .setMemtableBytes(r.longProperty("rocksdb.cur-size-all-mem-tables"));
        }
        return b.build();
    }

    /** Refuses (MOVED) a key whose ring range this shard does not own. */
    private void checkOwned(byte[] storageKey) {
        var owned = replication.log().owned();
        if (owned != null && !owned.owns(StorageKeys.position(storageKey))) throw replication.moved(owned);
    }

    private StoredValue read(byte[] storageKey) {
        byte[] raw = store.get(storageKey);
        // Checked after the read: a value read while the shard still owned the key was current (writes
        // to a range stop with the record that gives it away); one read later may be stale, since the
        // new owner may have taken writes: MOVED then, and the coordinator asks the new owner.
        checkOwned(storageKey);
        if (raw == null) return null;
        StoredValue v = StoredValue.decode(raw);
        return v.expiredAt(clockMs.getAsLong()) ? null : v;
    }

    private static long parseLong(byte[] digits) {
        String s = new String(digits, StandardCharsets.US_ASCII);
        try {
            if (s.isEmpty() || s.length() > 20 || s.startsWith("+") || (s.length() > 1 && s.startsWith("0"))
                    || s.startsWith("-0")) {
                throw new NumberFormatException();
            }
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new LimeException(ErrorCode.NOT_AN_INTEGER, "value is not an integer or out of range");
        }
    }

    private int stripeOf(byte[] storageKey) {
        return (int) (StorageKeys.position(storageKey) >>> 54) & (STRIPES - 1);
    }

    private ReentrantLock lockFor(byte[] storageKey) {
        return stripes[stripeOf(storageKey)];
    }

    private static LimeException asLime(RuntimeException e) {
        if (e instanceof LimeException le) return le;
        if (e instanceof StorageException se) return new LimeException(ErrorCode.STORAGE_ERROR, se.getMessage());
        if (e instanceof IllegalStateException ise) return new LimeException(ErrorCode.STORAGE_ERROR, ise.getMessage());
        return new LimeException(ErrorCode.INTERNAL, e.toString());
    }

    /** Public form of the error translation, for the RPC layer. */
    public static LimeException translate(RuntimeException e) {
        return asLime(e);
    }
}
