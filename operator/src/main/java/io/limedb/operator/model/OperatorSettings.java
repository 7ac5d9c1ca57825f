package io.limedb.operator.model;

import io.limedb.operator.crd.LimeCluster;
import java.util.Objects;

/**
 * The operator-wide inputs of the desired state that are not in a LimeCluster: the node image used
 * when {@code spec.image} is empty, and the cluster DNS domain that member addresses end in.
 */
public record OperatorSettings(String defaultImage, String clusterDomain) {
    public static final String DEFAULT_CLUSTER_DOMAIN = "cluster.local";

    /** Requires a default image; a blank domain means {@value #DEFAULT_CLUSTER_DOMAIN}. */
    public OperatorSettings {
        Objects.requireNonNull(defaultImage, "defaultImage");
        if (defaultImage.isBlank()) {
            throw new IllegalArgumentException("defaultImage must not be blank");
        }
        clusterDomain = clusterDomain == null || clusterDomain.isBlank() ? DEFAULT_CLUSTER_DOMAIN : clusterDomain;
    }

    /** Settings with the given default image and the {@value #DEFAULT_CLUSTER_DOMAIN} domain. */
    public static OperatorSettings of(String defaultImage) {
        return new OperatorSettings(defaultImage, DEFAULT_CLUSTER_DOMAIN);
    }

    /** The image the cluster's node containers run: {@code spec.image}, or the default when it is empty. */
    public String image(LimeCluster cluster) {
        var image = cluster.getSpec().image;
        return image == null || image.isBlank() ? defaultImage : image;
    }
}
