package io.limedb.operator.control;

import io.limedb.core.control.ClusterState;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Where a cluster's members live, as the control loop sees them: shard {@code i} is {@code shard-i},
 * its member {@code j} is the pod {@code NAME-shard-i-j} of the StatefulSet {@code NAME-shard-i},
 * reached through that StatefulSet's headless Service.
 */
public record ClusterLayout(String namespace, String name, int shards, int replicasPerShard, String clusterDomain) {
    public static final int MEMBER_GRPC_PORT = 9090;

    public static String shardId(int shard) {
        return "shard-" + shard;
    }

    public String statefulSet(int shard) {
        return name + "-shard-" + shard;
    }

    public String memberId(int shard, int member) {
        return statefulSet(shard) + "-" + member;
    }

    public String address(int shard, int member) {
        return memberId(shard, member) + "." + statefulSet(shard) + "." + namespace + ".svc." + clusterDomain + ":"
                + MEMBER_GRPC_PORT;
    }

    public String topologyConfigMap() {
        return name + "-topology";
    }

    /** The members shard {@code shard} should have, all replicas (the control loop names the primary). */
    public List<Member> members(int shard, int count) {
        return IntStream.range(0, count).mapToObj(j -> new Member(memberId(shard, j), address(shard, j), Role.REPLICA))
                .toList();
    }

    /** A new cluster's topology: version 1, no primary yet (epoch 0; member 0 is the placeholder). */
    public ClusterState initialState(int vnodes) {
        var list = new ArrayList<ShardInfo>();
        for (int i = 0; i < shards; i++) {
            var ms = new ArrayList<>(members(i, replicasPerShard));
            ms.set(0, new Member(ms.get(0).id(), ms.get(0).address(), Role.PRIMARY));
            list.add(new ShardInfo(shardId(i), 0, ms));
        }
        return ClusterState.of(new Topology(1, vnodes, list));
    }
}
