package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.limedb.operator.crd.LimeCluster;

/** LimeClusters for the desired-state tests: the CRD's defaults, named demo in namespace data. */
final class TestClusters {
    static final OperatorSettings SETTINGS = new OperatorSettings("limedb/node:default", null);

    private TestClusters() {}

    static LimeCluster cluster() {
        var cluster = new LimeCluster();
        cluster.setMetadata(new ObjectMetaBuilder().withName("demo").withNamespace("data").withUid("uid-1").build());
        cluster.setSpec(new io.limedb.operator.crd.LimeClusterSpec());
        return cluster;
    }
}
