package io.limedb.operator.control;

import io.limedb.core.control.ClusterState;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.operator.crd.LimeCluster;
import io.limedb.operator.model.Names;
import io.limedb.operator.model.OperatorSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A cluster's members as the control loop sees them (ids and addresses from {@link Names}): member
 * {@code j} of shard {@code i} is the pod {@code NAME-shard-i-j}, reached through its StatefulSet's
 * headless Service.
 */
public record ClusterLayout(LimeCluster cluster, int shards, OperatorSettings settings) {

    public String namespace() {
        return cluster.getMetadata().getNamespace();
    }

    public String name() {
        return cluster.getMetadata().getName();
    }

    /** The first {@code count} members of shard {@code shard}, all replicas (the control loop names the primary). */
    public List<Member> members(int shard, int count) {
        return IntStream.range(0, count).mapToObj(j -> new Member(Names.memberId(cluster, shard, j),
                Names.memberAddress(cluster, shard, j, settings), Role.REPLICA)).toList();
    }

    /** A new cluster's topology: version 1, no primary yet (epoch 0; member 0 is the placeholder). */
    public ClusterState initialState(int replicasPerShard, int vnodes) {
        var list = new ArrayList<ShardInfo>();
        for (int i = 0; i < shards; i++) {
            var ms = new ArrayList<>(members(i, replicasPerShard));
            ms.set(0, new Member(ms.get(0).id(), ms.get(0).address(), Role.PRIMARY));
            list.add(new ShardInfo(Names.shardId(i), 0, ms));
        }
        return ClusterState.of(new Topology(1, vnodes, list));
    }
}
