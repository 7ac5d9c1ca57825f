package io.limedb.core.topology;

import io.limedb.core.ring.HashRing;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The cluster as the router sees it: a version that only grows, the ring's vnodes per shard, and the
 * shards in ring order. The ring is derived from it, so every reader of one topology version routes
 * every key the same way.
 */
public record Topology(long version, int vnodes, List<ShardInfo> shards) {
    public Topology {
        Objects.requireNonNull(shards, "shards");
        if (version < 0) throw new IllegalArgumentException("topology version must be >= 0");
        if (shards.isEmpty()) throw new IllegalArgumentException("topology has no shards");
        shards = List.copyOf(shards);
        if (shards.stream().map(ShardInfo::id).distinct().count() != shards.size()) {
            throw new IllegalArgumentException("duplicate shard id in topology");
        }
    }

    public HashRing ring() {
        return HashRing.of(shards.stream().map(ShardInfo::id).toList(), vnodes);
    }

    public Map<String, ShardInfo> byId() {
        return shards.stream().collect(Collectors.toMap(ShardInfo::id, Function.identity()));
    }
}
