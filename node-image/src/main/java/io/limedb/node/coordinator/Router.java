package io.limedb.node.coordinator;

import io.limedb.api.v1.Op;
import io.limedb.api.v1.OpResult;
import io.limedb.core.ring.HashRing;
import io.limedb.core.ring.KeyHash;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each operation to the primary of the shard that owns its key on the current ring. Each event
 * loop has its own links to the shards, so a request never leaves the loop its connection lives on.
 */
public final class Router implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    /**
     * One topology version as routed: each shard's primary, epoch and replicas (indexed like the
     * topology's shards), and who owns each ring position (during a resharding, per moved pair).
     */
    public record Table(Topology topology, HashRing ring, String[] ids, String[] primaryAddress, long[] epoch,
            String[][] replicas, int[] ringToShard, java.util.Map<String, Integer> index) {
        static Table of(Topology t) {
            var ring = t.ring();
            int n = t.shards().size();
            String[] ids = new String[n];
            String[] primaries = new String[n];
            long[] epochs = new long[n];
            String[][] replicas = new String[n][];
            var index = new java.util.HashMap<String, Integer>();
            for (int i = 0; i < n; i++) {
                var shard = t.shards().get(i);
                ids[i] = shard.id();
                index.put(shard.id(), i);
                primaries[i] = shard.primary().address();
                epochs[i] = shard.epoch();
                replicas[i] = shard.members().stream().filter(m -> m.role() == io.limedb.core.topology.Role.REPLICA)
                        .map(io.limedb.core.topology.Member::address).toArray(String[]::new);
            }
            int[] ringToShard = ring.shards().stream().mapToInt(index::get).toArray();
            return new Table(t, ring, ids, primaries, epochs, replicas, ringToShard, index);
        }

        /** Index (into the topology's shards) of the shard that owns a ring position. */
        public int shardOf(long position) {
            var o = topology.ownership();
            if (o.flipped().isEmpty()) return ringToShard[ring.ownerIndexOf(position)];
            return index.get(o.ownerOf(position));
        }

        public long ringVersion() {
            return topology.ownership().version();
        }
    }

    /** Link settings: see the rpc.* configuration keys. */
    public record LinkSettings(long deadlineMs, int maxInFlight, int maxBatchOps, long maxBatchBytes,
            long maxQueuedBytes, int maxMessageBytes) {}

    private final EventLoop[] loops;
    private final Map<EventLoop, Map<String, ShardLink>> links = new HashMap<>();
    private final LinkSettings settings;
    private final boolean readFromReplicas;
    private volatile Table table;
    private java.util.function.Supplier<CompletableFuture<Void>> refresher = () -> CompletableFuture.completedFuture(null);

    public Router(EventLoopGroup group, LinkSettings settings, boolean readFromReplicas) {
        this.readFromReplicas = readFromReplicas;
        var list = new ArrayList<EventLoop>();
        for (EventExecutor e : group) list.add((EventLoop) e);
        this.loops = list.toArray(EventLoop[]::new);
        for (EventLoop l : loops) links.put(l, new HashMap<>());
        this.settings = settings;
    }

    /** Switches to a new topology; links to nodes no longer in it are closed. */
    public void update(Topology topology) {
        Table next = Table.of(topology);
        Table prev = table;
        table = next;
        if (prev == null || prev.topology().version() != topology.version()) {
            LOG.info("routing by topology version {}: {}", topology.version(), summary(next));
        }
        var keep = new HashSet<>(List.of(next.primaryAddress()));
        for (String[] rs : next.replicas()) keep.addAll(List.of(rs));
        for (EventLoop l : loops) {
            l.execute(() -> links.get(l).entrySet().removeIf(e -> {
                if (keep.contains(e.getKey())) return false;
                e.getValue().close();
                return true;
            }));
        }
    }

    private static String summary(Table t) {
        var sb = new StringBuilder();
        for (int i = 0; i < t.primaryAddress().length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(t.ids()[i]).append("->").append(t.primaryAddress()[i]);
        }
        return sb.toString();
    }

    public Table table() {
        Table t = table;
        if (t == null) throw new LimeException(ErrorCode.NO_TOPOLOGY, "the coordinator has no topology yet");
        return t;
    }

    /** How to re-read the topology at once (after a NOT_PRIMARY / STALE_EPOCH answer), off the event loops. */
    public void onRefresh(java.util.function.Supplier<CompletableFuture<Void>> refresher) {
        this.refresher = refresher;
    }

    /** Re-reads the topology; completes with true when that changed the version routed by. */
    public CompletableFuture<Boolean> refresh() {
        long before = table == null ? -1 : table.topology().version();
        return refresher.get().thenApply(v -> table != null && table.topology().version() != before);
    }

    /** Routes one single-key operation; the future completes on the caller's event loop when it is one. */
    public CompletableFuture<OpResult> submit(byte[] key, Op op) {
        return route(key, op, false);
    }

    /** Whether the key's shard has members besides its primary (so a lost primary can be replaced). */
    public boolean replicated(byte[] key) {
        Table t;
        try {
            t = table();
        } catch (LimeException e) {
            return false;
        }
        int shard = t.shardOf(KeyHash.of(key));
        return t.replicas()[shard].length > 0;
    }

    /**
     * Routes again an operation a shard sent back unrun because its reply was full: it leaves in the
     * link's next batch, ahead of what is queued there (see {@link ShardLink#resubmit}).
     */
    CompletableFuture<OpResult> resubmit(byte[] key, Op op) {
        return route(key, op, true);
    }

    private CompletableFuture<OpResult> route(byte[] key, Op op, boolean first) {
        var result = new CompletableFuture<OpResult>();
        Table t;
        try {
            t = table();
        } catch (LimeException e) {
            result.completeExceptionally(e);
            return result;
        }
        long hash = KeyHash.of(key);
        int shard = t.shardOf(hash);
        String shardId = t.ids()[shard];
        boolean replicaRead = readFromReplicas && op.getOpCase() == Op.OpCase.GET && t.replicas()[shard].length > 0;
        // Replica reads spread over the replicas by key, so one key is read from one place at a time.
        String address = replicaRead ? t.replicas()[shard][(int) ((hash >>> 1) % t.replicas()[shard].length)]
                : t.primaryAddress()[shard];
        long epoch = t.epoch()[shard];
        long ringVersion = t.ringVersion();
        EventLoop loop = currentLoop();
        if (loop == null) {
            EventLoop l = loops[(int) ((hash >>> 1) % loops.length)];
            l.execute(() -> submitOn(link(l, shardId, address), first, op, epoch, ringVersion, replicaRead, result));
        } else {
            submitOn(link(loop, shardId, address), first, op, epoch, ringVersion, replicaRead, result);
        }
        return result;
    }

    private static void submitOn(ShardLink link, boolean first, Op op, long epoch, long ringVersion,
            boolean replicaRead, CompletableFuture<OpResult> result) {
        if (first) link.resubmit(op, epoch, ringVersion, replicaRead, result);
        else link.submit(op, epoch, ringVersion, replicaRead, result);
    }

    /** Completes after delayMs on the event loop that the key's requests use from here. */
    CompletableFuture<Void> later(byte[] key, long delayMs) {
        var done = new CompletableFuture<Void>();
        EventLoop loop = currentLoop();
        if (loop == null) loop = loops[(int) ((KeyHash.of(key) >>> 1) % loops.length)];
        loop.schedule(() -> done.complete(null), delayMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        return done;
    }

    long deadlineMs() {
        return settings.deadlineMs();
    }

    private ShardLink link(EventLoop loop, String shardId, String address) {
        return links.get(loop).computeIfAbsent(address, a -> new ShardLink(shardId, a, loop, settings));
    }

    private EventLoop currentLoop() {
        for (EventLoop l : loops) {
            if (l.inEventLoop()) return l;
        }
        return null;
    }

    /** A shard's details for status pages. */
    public List<ShardInfo> shards() {
        return table().topology().shards();
    }

    @Override
    public void close() {
        for (EventLoop l : loops) {
            l.execute(() -> {
                links.get(l).values().forEach(ShardLink::close);
                links.get(l).clear();
            });
        }
    }
}
