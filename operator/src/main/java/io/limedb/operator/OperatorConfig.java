package io.limedb.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The operator's own settings ({@code limedb.operator.*}, or {@code LIMEDB_OPERATOR_*} in the environment). */
@ConfigMapping(prefix = "limedb.operator")
public interface OperatorConfig {

    /** Node image for clusters whose spec.image is empty. */
    @WithDefault("limedb/node:latest")
    String nodeImage();

    /** DNS domain of the Kubernetes cluster (members reach each other at POD.SERVICE.NS.svc.DOMAIN). */
    @WithDefault("cluster.local")
    String clusterDomain();

    /** How often each cluster's control loop probes its members, in milliseconds. */
    @WithDefault("500")
    long tickMs();
}
