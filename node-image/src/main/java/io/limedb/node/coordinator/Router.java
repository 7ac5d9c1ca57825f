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

    /** The ring and where each shard's primary is, for one topology version. */
    public record Table(Topology topology, HashRing ring, String[] primaryAddress) {
        static Table of(Topology t) {
            var ring = t.ring();
            var byId = t.byId();
            String[] primaries = new String[ring.shards().size()];
            for (int i = 0; i < primaries.length; i++) primaries[i] = byId.get(ring.shards().get(i)).primary().address();
            return new Table(t, ring, primaries);
        }
    }

    /** Link settings: see the rpc.* configuration keys. */
    public record LinkSettings(long deadlineMs, int maxInFlight, int maxBatchOps, int maxMessageBytes) {}

    private final EventLoop[] loops;
    private final Map<EventLoop, Map<String, ShardLink>> links = new HashMap<>();
    private final LinkSettings settings;
    private volatile Table table;

    public Router(EventLoopGroup group, LinkSettings settings) {
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
            sb.append(t.ring().shards().get(i)).append("->").append(t.primaryAddress()[i]);
        }
        return sb.toString();
    }

    public Table table() {
        Table t = table;
        if (t == null) throw new LimeException(ErrorCode.NO_TOPOLOGY, "the coordinator has no topology yet");
        return t;
    }

    /** The shard that owns a key, by id. */
    public String shardOf(byte[] key) {
        Table t = table();
        return t.ring().shards().get(t.ring().ownerIndexOf(KeyHash.of(key)));
    }

    /** Routes one single-key operation; the future completes on the caller's event loop when it is one. */
    public CompletableFuture<OpResult> submit(byte[] key, Op op) {
        var result = new CompletableFuture<OpResult>();
        Table t;
        try {
            t = table();
        } catch (LimeException e) {
            result.completeExceptionally(e);
            return result;
        }
        int shard = t.ring().ownerIndexOf(KeyHash.of(key));
        String shardId = t.ring().shards().get(shard);
        String address = t.primaryAddress()[shard];
        EventLoop loop = currentLoop();
        if (loop != null) {
            link(loop, shardId, address).submit(op, result);
        } else {
            EventLoop l = loops[(int) ((KeyHash.of(key) >>> 1) % loops.length)];
            l.execute(() -> link(l, shardId, address).submit(op, result));
        }
        return result;
    }

    private ShardLink link(EventLoop loop, String shardId, String address) {
        return links.get(loop).computeIfAbsent(address, a -> new ShardLink(shardId, a, loop, settings.deadlineMs(),
                settings.maxInFlight(), settings.maxBatchOps(), settings.maxMessageBytes()));
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
