package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.limedb.operator.crd.LimeCluster;
import java.util.Map;

/**
 * Metadata of an object the LimeCluster owns: its name, the cluster's namespace, labels and a
 * controller owner reference, so that deleting the cluster deletes it and its events wake the
 * cluster's reconciler.
 */
public final class Owned {
    private Owned() {}

    /** Metadata of an owned object named {@code name} with the given labels. */
    public static ObjectMeta metadata(LimeCluster cluster, String name, Map<String, String> labels) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(Names.namespace(cluster))
                .withLabels(labels)
                .withOwnerReferences(ownerReference(cluster))
                .build();
    }

    /** Metadata of an owned object named {@code name} with the labels of {@code component}. */
    public static ObjectMeta metadata(LimeCluster cluster, String name, Labels.Component component) {
        return metadata(cluster, name, Labels.of(cluster, component));
    }

    /**
     * The controller reference to the cluster; blockOwnerDeletion keeps a foreground deletion of
     * the cluster waiting until its objects are gone.
     */
    public static OwnerReference ownerReference(LimeCluster cluster) {
        return new OwnerReferenceBuilder()
                .withApiVersion(cluster.getApiVersion())
                .withKind(cluster.getKind())
                .withName(cluster.getMetadata().getName())
                .withUid(cluster.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }
}
