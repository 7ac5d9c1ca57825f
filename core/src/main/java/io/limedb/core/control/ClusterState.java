package io.limedb.core.control;

import io.limedb.core.reshard.Resharding;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** What the store holds: the published topology, and per shard the failover in progress, if any. */
public record ClusterState(Topology topology, Map<String, FailoverIntent> intents, Resharding resharding) {

    public ClusterState(Topology topology, Map<String, FailoverIntent> intents) {
        this(topology, intents, null);
    }

    public ClusterState {
        Objects.requireNonNull(topology, "topology");
        if ((resharding != null) != topology.ownership().resharding()) {
            throw new IllegalArgumentException("a resharding's progress must be recorded exactly while the ring has a next ring");
        }
        intents = Map.copyOf(intents);
        for (String shard : intents.keySet()) {
            if (topology.shard(shard).isEmpty()) {
                throw new IllegalArgumentException("failover recorded for unknown shard " + shard);
            }
        }
    }

    public static ClusterState of(Topology topology) {
        return new ClusterState(topology, Map.of());
    }

    public Optional<FailoverIntent> intent(String shardId) {
        return Optional.ofNullable(intents.get(shardId));
    }

    /** The same topology with {@code intent} recorded for the shard. */
    public ClusterState withIntent(String shardId, FailoverIntent intent) {
        var next = new HashMap<>(intents);
        next.put(shardId, intent);
        return new ClusterState(topology, next, resharding);
    }

    /** The next topology version with {@code shard} in it, and that shard's failover cleared. */
    public ClusterState publish(ShardInfo shard) {
        var next = new HashMap<>(intents);
        next.remove(shard.id());
        return new ClusterState(topology.publish(shard), next, resharding);
    }

    /** The next topology version (from {@code next}), with the resharding progress given (null: none). */
    public ClusterState withTopology(Topology next, Resharding progress) {
        return new ClusterState(next, intents, progress);
    }

    public Optional<Resharding> reshardingInProgress() {
        return Optional.ofNullable(resharding);
    }
}
