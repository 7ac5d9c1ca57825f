package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.limedb.operator.crd.LimeCluster;
import io.limedb.operator.model.Labels.Component;

/**
 * The identity of the node pods and the one thing it may do: read the cluster's topology
 * ConfigMap. Nothing else in the namespace is visible to a node.
 */
public final class DesiredRbac {

    private DesiredRbac() {}

    /** The ServiceAccount {@code <N>-node} of shard and coordinator pods. */
    public static ServiceAccount serviceAccount(LimeCluster cluster) {
        return new ServiceAccountBuilder()
                .withMetadata(Owned.metadata(cluster, Names.nodeServiceAccount(cluster), Component.NODE))
                .build();
    }

    /**
     * The Role {@code <N>-node}: get, list and watch on the topology ConfigMap only. RBAC allows
     * list and watch under resourceNames when the request selects {@code metadata.name} by a field
     * selector, which is how the coordinator watches it.
     */
    public static Role role(LimeCluster cluster) {
        return new RoleBuilder()
                .withMetadata(Owned.metadata(cluster, Names.nodeServiceAccount(cluster), Component.NODE))
                .addNewRule()
                .withApiGroups("")
                .withResources("configmaps")
                .withResourceNames(Names.topologyConfigMap(cluster))
                .withVerbs("get", "list", "watch")
                .endRule()
                .build();
    }

    /** The RoleBinding {@code <N>-node} that grants {@link #role} to {@link #serviceAccount}. */
    public static RoleBinding roleBinding(LimeCluster cluster) {
        var name = Names.nodeServiceAccount(cluster);
        return new RoleBindingBuilder()
                .withMetadata(Owned.metadata(cluster, name, Component.NODE))
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(name).withNamespace(Names.namespace(cluster))
                .endSubject()
                .build();
    }
}
