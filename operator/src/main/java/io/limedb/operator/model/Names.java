package io.limedb.operator.model;

import io.limedb.operator.crd.LimeCluster;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The naming contract of a LimeCluster's objects and members. The reconciler, the topology it
 * publishes and the nodes all find each other by these names, so they are built here and nowhere
 * else.
 */
public final class Names {
    /** Key of the topology JSON in the topology ConfigMap. */
    public static final String TOPOLOGY_KEY = "topology.json";
    /** Container ports of the node; the shard Services expose them as they are. */
    /** The node container of shard and coordinator pods. */
    public static final String NODE_CONTAINER = "node";
    public static final int GRPC_PORT = 9090;
    public static final int HTTP_PORT = 8080;
    public static final int RESP_PORT = 6379;
    private static final String SHARD_PREFIX = "shard-";

    private Names() {}

    /** The shard id the topology and status know shard {@code index} (0-based) by: {@code shard-<i>}. */
    public static String shardId(int index) {
        return SHARD_PREFIX + index;
    }

    /** The index of a shard id made by {@link #shardId}; rejects anything else. */
    public static int shardIndex(String shardId) {
        if (shardId == null || !shardId.startsWith(SHARD_PREFIX)) {
            throw new IllegalArgumentException("not a shard id: " + shardId);
        }
        var index = Integer.parseInt(shardId.substring(SHARD_PREFIX.length()));
        if (index < 0 || !shardId(index).equals(shardId)) {
            throw new IllegalArgumentException("not a shard id: " + shardId);
        }
        return index;
    }

    /** Shard StatefulSet, its headless Service and its PodDisruptionBudget: {@code <N>-shard-<i>}. */
    public static String shard(LimeCluster cluster, int shard) {
        return name(cluster) + "-" + shardId(shard);
    }

    /**
     * Pod {@code member} (0-based) of a shard, {@code <N>-shard-<i>-<j>}; it is also the member id,
     * so a member keeps its identity (and its volume) across restarts.
     */
    public static String memberId(LimeCluster cluster, int shard, int member) {
        return shard(cluster, shard) + "-" + member;
    }

    /** The member ids {@code spec.replicasPerShard} asks of a shard, in ordinal order. */
    public static List<String> memberIds(LimeCluster cluster, int shard) {
        return IntStream.range(0, cluster.getSpec().replicasPerShard)
                .mapToObj(member -> memberId(cluster, shard, member)).toList();
    }

    /**
     * gRPC address of a member, {@code <pod>.<N>-shard-<i>.<NS>.svc.<domain>:9090}: the pod's stable
     * DNS name through the shard's headless Service, resolvable even while the pod is not ready.
     */
    public static String memberAddress(LimeCluster cluster, int shard, int member, OperatorSettings settings) {
        return memberId(cluster, shard, member) + "." + shard(cluster, shard) + "." + namespace(cluster)
                + ".svc." + settings.clusterDomain() + ":" + GRPC_PORT;
    }

    /** Coordinator Deployment and Service: {@code <N>-coordinator}. */
    public static String coordinator(LimeCluster cluster) {
        return name(cluster) + "-coordinator";
    }

    /**
     * Where clients connect, for status: {@code <N>-coordinator.<NS>.svc:<resp port>}. The domain is
     * left out on purpose (resolvable from every namespace and shorter in {@code kubectl get}); the
     * settings are taken so that callers need not know which addresses use them.
     */
    public static String coordinatorEndpoint(LimeCluster cluster, OperatorSettings settings) {
        return coordinator(cluster) + "." + namespace(cluster) + ".svc:" + cluster.getSpec().coordinator.ports.resp;
    }

    /** The topology ConfigMap, {@code <N>-topology}, written only by the operator (key {@link #TOPOLOGY_KEY}). */
    public static String topologyConfigMap(LimeCluster cluster) {
        return name(cluster) + "-topology";
    }

    /** ServiceAccount, Role and RoleBinding of the node pods: {@code <N>-node}. */
    public static String nodeServiceAccount(LimeCluster cluster) {
        return name(cluster) + "-node";
    }

    static String name(LimeCluster cluster) {
        return cluster.getMetadata().getName();
    }

    static String namespace(LimeCluster cluster) {
        return cluster.getMetadata().getNamespace();
    }
}
