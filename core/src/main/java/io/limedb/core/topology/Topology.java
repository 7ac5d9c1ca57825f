package io.limedb.core.topology;

import io.limedb.core.ring.HashRing;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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

    public Optional<ShardInfo> shard(String shardId) {
        return shards.stream().filter(s -> s.id().equals(shardId)).findFirst();
    }

    /** The next version: {@code shard} replaces the shard of the same id. */
    public Topology publish(ShardInfo shard) {
        if (shard(shard.id()).isEmpty()) throw new IllegalArgumentException("topology has no shard " + shard.id());
        return new Topology(version + 1, vnodes,
                shards.stream().map(s -> s.id().equals(shard.id()) ? shard : s).toList());
    }
}
