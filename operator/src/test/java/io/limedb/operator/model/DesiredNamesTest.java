package io.limedb.operator.model;

import static io.limedb.operator.model.TestClusters.SETTINGS;
import static io.limedb.operator.model.TestClusters.cluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DesiredNamesTest {

    @Test
    void namesFollowTheContract() {
        var c = cluster();
        assertThat(Names.shardId(2)).isEqualTo("shard-2");
        assertThat(Names.shard(c, 2)).isEqualTo("demo-shard-2");
        assertThat(Names.memberId(c, 2, 1)).isEqualTo("demo-shard-2-1");
        assertThat(Names.coordinator(c)).isEqualTo("demo-coordinator");
        assertThat(Names.topologyConfigMap(c)).isEqualTo("demo-topology");
        assertThat(Names.nodeServiceAccount(c)).isEqualTo("demo-node");
        assertThat(Names.TOPOLOGY_KEY).isEqualTo("topology.json");
    }

    @Test
    void memberIdsArePodNamesForEveryReplica() {
        var c = cluster();
        c.getSpec().replicasPerShard = 3;
        assertThat(Names.memberIds(c, 1)).containsExactly("demo-shard-1-0", "demo-shard-1-1", "demo-shard-1-2");
    }

    @Test
    void memberAddressGoesThroughTheHeadlessServiceAndTheClusterDomain() {
        assertThat(Names.memberAddress(cluster(), 0, 2, SETTINGS))
                .isEqualTo("demo-shard-0-2.demo-shard-0.data.svc.cluster.local:9090");
        assertThat(Names.memberAddress(cluster(), 0, 2, new OperatorSettings("img", "corp.example")))
                .isEqualTo("demo-shard-0-2.demo-shard-0.data.svc.corp.example:9090");
    }

    @Test
    void coordinatorEndpointUsesTheRespServicePort() {
        var c = cluster();
        assertThat(Names.coordinatorEndpoint(c, SETTINGS)).isEqualTo("demo-coordinator.data.svc:6379");
        c.getSpec().coordinator.ports.resp = 7000;
        assertThat(Names.coordinatorEndpoint(c, SETTINGS)).isEqualTo("demo-coordinator.data.svc:7000");
    }

    @Test
    void shardIndexReadsBackOnlyShardIds() {
        assertThat(Names.shardIndex("shard-17")).isEqualTo(17);
        for (var bad : new String[] {"shard-", "shard-x", "shard-01", "shard--1", "node-1", null}) {
            assertThatThrownBy(() -> Names.shardIndex(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void settingsDefaultTheDomainAndFallBackToTheDefaultImage() {
        assertThat(SETTINGS.clusterDomain()).isEqualTo("cluster.local");
        var c = cluster();
        assertThat(SETTINGS.image(c)).isEqualTo("limedb/node:default");
        c.getSpec().image = "registry.example/limedb:1.2";
        assertThat(SETTINGS.image(c)).isEqualTo("registry.example/limedb:1.2");
        assertThatThrownBy(() -> OperatorSettings.of(" ")).isInstanceOf(IllegalArgumentException.class);
    }
}
