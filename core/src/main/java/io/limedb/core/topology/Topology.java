package io.limedb.core.topology;

import io.limedb.core.ring.HashRing;
import io.limedb.core.ring.Ownership;
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
public record Topology(long version, int vnodes, List<ShardInfo> shards, Ownership ownership) {
    public Topology {
        Objects.requireNonNull(shards, "shards");
        if (version < 0) throw new IllegalArgumentException("topology version must be >= 0");
        if (shards.isEmpty()) throw new IllegalArgumentException("topology has no shards");
        shards = List.copyOf(shards);
        if (shards.stream().map(ShardInfo::id).distinct().count() != shards.size()) {
            throw new IllegalArgumentException("duplicate shard id in topology");
        }
        if (ownership == null) ownership = Ownership.of(shards.stream().map(ShardInfo::id).toList(), vnodes);
        if (ownership.vnodes() != vnodes) throw new IllegalArgumentException("the ring's vnodes differ from the topology's");
        var ids = shards.stream().map(ShardInfo::id).collect(Collectors.toSet());
        for (String s : ownership.allShards()) {
            if (!ids.contains(s)) throw new IllegalArgumentException("the ring names shard " + s + ", which the topology lacks");
        }
    }

    /** Every shard in the ring. */
    public Topology(long version, int vnodes, List<ShardInfo> shards) {
        this(version, vnodes, shards, null);
    }

    /** The ring in force (during a resharding, the one being moved from). */
    public HashRing ring() {
        return ownership.ring();
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
                shards.stream().map(s -> s.id().equals(shard.id()) ? shard : s).toList(), ownership);
    }

    /** The next version, with a shard added (not in the ring until a resharding moves ranges to it). */
    public Topology withShard(ShardInfo shard) {
        if (shard(shard.id()).isPresent()) throw new IllegalArgumentException("topology already has shard " + shard.id());
        var all = new java.util.ArrayList<>(shards);
        all.add(shard);
        return new Topology(version + 1, vnodes, all, ownership);
    }

    /** The next version, without a shard that owns nothing and is in no ring. */
    public Topology withoutShard(String shardId) {
        if (ownership.allShards().contains(shardId)) {
            throw new IllegalArgumentException("shard " + shardId + " is in the ring; move its ranges away first");
        }
        return new Topology(version + 1, vnodes, shards.stream().filter(s -> !s.id().equals(shardId)).toList(), ownership);
    }

    /** The next version, with a new ownership. */
    public Topology withOwnership(Ownership next) {
        return new Topology(version + 1, vnodes, shards, next);
    }
}
