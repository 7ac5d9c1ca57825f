package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.limedb.operator.crd.LimeCluster;
import java.util.ArrayList;
import java.util.Collection;
import java.util.TreeSet;
import java.util.List;

/**
 * Everything the operator applies for a LimeCluster, except the topology ConfigMap (whose content
 * the operator decides at run time), as one pure function of the cluster and the settings.
 */
public final class DesiredState {

    private DesiredState() {}

    /**
     * All desired objects, in an order that can be applied front to back: RBAC first (pods need
     * their ServiceAccount), each shard's Service before its StatefulSet, the coordinator last.
     */
    public static List<HasMetadata> all(LimeCluster cluster, OperatorSettings settings) {
        return all(cluster, settings, java.util.stream.IntStream.range(0, cluster.getSpec().shards).boxed().toList());
    }

    /**
     * The same with the objects of the shards given (by index) instead of spec.shards' shards: while
     * spec.shards changes, the shards being added and those not yet removed from the topology.
     */
    public static List<HasMetadata> all(LimeCluster cluster, OperatorSettings settings, Collection<Integer> shards) {
        var objects = new ArrayList<HasMetadata>();
        objects.add(DesiredRbac.serviceAccount(cluster));
        objects.add(DesiredRbac.role(cluster));
        objects.add(DesiredRbac.roleBinding(cluster));
        for (int shard : new TreeSet<>(shards)) {
            objects.addAll(shard(cluster, shard, settings));
        }
        objects.add(DesiredCoordinator.deployment(cluster, settings));
        objects.add(DesiredCoordinator.service(cluster));
        return List.copyOf(objects);
    }

    /** The objects of one shard: headless Service, StatefulSet, PodDisruptionBudget. */
    public static List<HasMetadata> shard(LimeCluster cluster, int shard, OperatorSettings settings) {
        return List.of(DesiredShard.headlessService(cluster, shard), DesiredShard.statefulSet(cluster, shard, settings),
                DesiredShard.podDisruptionBudget(cluster, shard));
    }
}
