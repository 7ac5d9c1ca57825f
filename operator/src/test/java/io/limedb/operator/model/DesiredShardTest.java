package io.limedb.operator.model;

import static io.limedb.operator.model.TestClusters.SETTINGS;
import static io.limedb.operator.model.TestClusters.cluster;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.limedb.operator.crd.ContainerResources;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DesiredShardTest {

    @Test
    void statefulSetIsNamedOwnedAndLabelledForItsShard() {
        var sts = DesiredShard.statefulSet(cluster(), 1, SETTINGS);
        assertThat(sts.getMetadata().getName()).isEqualTo("demo-shard-1");
        assertThat(sts.getMetadata().getNamespace()).isEqualTo("data");
        var owner = sts.getMetadata().getOwnerReferences();
        assertThat(owner).singleElement().satisfies(o -> {
            assertThat(o.getApiVersion()).isEqualTo("limedb.io/v1alpha1");
            assertThat(o.getKind()).isEqualTo("LimeCluster");
            assertThat(o.getName()).isEqualTo("demo");
            assertThat(o.getUid()).isEqualTo("uid-1");
            assertThat(o.getController()).isTrue();
            assertThat(o.getBlockOwnerDeletion()).isTrue();
        });
        assertThat(sts.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "app.kubernetes.io/name", "limedb", "app.kubernetes.io/instance", "demo",
                "app.kubernetes.io/component", "shard", "app.kubernetes.io/managed-by", "limedb-operator",
                "limedb.io/shard", "shard-1"));
        var selector = Map.of("app.kubernetes.io/name", "limedb", "app.kubernetes.io/instance", "demo",
                "app.kubernetes.io/component", "shard", "limedb.io/shard", "shard-1");
        assertThat(sts.getSpec().getSelector().getMatchLabels()).containsExactlyInAnyOrderEntriesOf(selector);
        assertThat(sts.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(selector);
    }

    @Test
    void statefulSetRunsReplicasPerShardInParallelBehindTheHeadlessService() {
        var c = cluster();
        c.getSpec().replicasPerShard = 5;
        var spec = DesiredShard.statefulSet(c, 0, SETTINGS).getSpec();
        assertThat(spec.getReplicas()).isEqualTo(5);
        assertThat(spec.getServiceName()).isEqualTo("demo-shard-0");
        assertThat(spec.getPodManagementPolicy()).isEqualTo("Parallel");
        assertThat(spec.getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
    }

    @Test
    void volumesHaveTheSizeClassAndRetentionOfTheSpec() {
        var c = cluster();
        var spec = DesiredShard.statefulSet(c, 0, SETTINGS).getSpec();
        var claim = spec.getVolumeClaimTemplates().get(0);
        assertThat(claim.getMetadata().getName()).isEqualTo("data");
        assertThat(claim.getMetadata().getOwnerReferences()).as("PVCs must outlive the cluster on Retain").isEmpty();
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("1Gi"));
        assertThat(claim.getSpec().getStorageClassName()).isNull();
        assertThat(spec.getPersistentVolumeClaimRetentionPolicy().getWhenDeleted()).isEqualTo("Retain");
        assertThat(spec.getPersistentVolumeClaimRetentionPolicy().getWhenScaled()).isEqualTo("Retain");

        c.getSpec().storage.size = "20Gi";
        c.getSpec().storage.storageClassName = "fast-ssd";
        c.getSpec().storage.whenDeleted = "Delete";
        spec = DesiredShard.statefulSet(c, 0, SETTINGS).getSpec();
        claim = spec.getVolumeClaimTemplates().get(0);
        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("20Gi"));
        assertThat(claim.getSpec().getStorageClassName()).isEqualTo("fast-ssd");
        assertThat(spec.getPersistentVolumeClaimRetentionPolicy().getWhenDeleted()).isEqualTo("Delete");
        assertThat(spec.getPersistentVolumeClaimRetentionPolicy().getWhenScaled()).isEqualTo("Retain");
    }

    @Test
    void podRunsAsNonRootWithoutAnApiToken() {
        var pod = DesiredShard.statefulSet(cluster(), 0, SETTINGS).getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("demo-node");
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(30L);
        var security = pod.getSecurityContext();
        assertThat(security.getRunAsNonRoot()).isTrue();
        assertThat(security.getRunAsUser()).isEqualTo(10001L);
        assertThat(security.getRunAsGroup()).isEqualTo(10001L);
        assertThat(security.getFsGroup()).isEqualTo(10001L);
        assertThat(security.getFsGroupChangePolicy()).isEqualTo("OnRootMismatch");
        assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        var container = node(DesiredShard.statefulSet(cluster(), 0, SETTINGS));
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    }

    @Test
    void containerRunsTheImageWithPortsProbesPreStopAndWritableDataAndTmp() {
        var c = cluster();
        c.getSpec().imagePullPolicy = "Always";
        var sts = DesiredShard.statefulSet(c, 0, SETTINGS);
        var container = node(sts);
        assertThat(container.getImage()).isEqualTo("limedb/node:default");
        assertThat(container.getImagePullPolicy()).isEqualTo("Always");
        assertThat(container.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .containsExactly("grpc:9090", "http:8080");
        var ready = container.getReadinessProbe();
        assertThat(ready.getHttpGet().getPath()).isEqualTo("/health/ready");
        assertThat(ready.getHttpGet().getPort()).isEqualTo(new IntOrString("http"));
        assertThat(ready.getPeriodSeconds()).isEqualTo(2);
        var live = container.getLivenessProbe();
        assertThat(live.getHttpGet().getPath()).isEqualTo("/health/live");
        assertThat(live.getInitialDelaySeconds()).isEqualTo(30);
        assertThat(live.getPeriodSeconds()).isEqualTo(10);
        assertThat(live.getFailureThreshold()).isEqualTo(6);
        var preStop = container.getLifecycle().getPreStop().getHttpGet();
        assertThat(preStop.getPath()).isEqualTo("/lifecycle/pre-stop");
        assertThat(preStop.getPort()).isEqualTo(new IntOrString("http"));
        assertThat(container.getVolumeMounts()).extracting(m -> m.getName() + ":" + m.getMountPath())
                .containsExactlyInAnyOrder("data:/data", "tmp:/tmp");
        assertThat(sts.getSpec().getTemplate().getSpec().getVolumes())
                .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());

        c.getSpec().image = "registry.example/limedb:2";
        assertThat(node(DesiredShard.statefulSet(c, 0, SETTINGS)).getImage()).isEqualTo("registry.example/limedb:2");
    }

    @Test
    void envConfiguresAShardMemberNamedAfterItsPod() {
        var container = node(DesiredShard.statefulSet(cluster(), 0, SETTINGS));
        assertThat(env(container)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "LIMEDB_ROLE", "shard", "LIMEDB_DATA_DIR", "/data", "LIMEDB_BIND_HOST", "0.0.0.0",
                "LIMEDB_REPLICATION_MODE", "sync", "LIMEDB_REPLICATION_MIN_IN_SYNC", "2",
                "JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=25 -XX:+UseSerialGC -XX:+UseTransparentHugePages -Djava.io.tmpdir=/tmp -Dnetworkaddress.cache.ttl=5 "
                        + "-Dsun.net.inetaddr.ttl=5 -Dsun.net.inetaddr.negative.ttl=1",
                "LIMEDB_NODE_ID", "fieldRef:metadata.name", "GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"));
    }

    @Test
    void aSingleMemberShardRunsStandaloneAndMinInSyncNeverExceedsTheMembers() {
        var c = cluster();
        c.getSpec().replicasPerShard = 1;
        c.getSpec().replication.mode = "async";
        c.getSpec().replication.minInSync = 3;
        var env = env(node(DesiredShard.statefulSet(c, 0, SETTINGS)));
        assertThat(env).containsEntry("LIMEDB_REPLICATION_MODE", "none")
                .containsEntry("LIMEDB_REPLICATION_MIN_IN_SYNC", "1");
        c.getSpec().replicasPerShard = 2;
        env = env(node(DesiredShard.statefulSet(c, 0, SETTINGS)));
        assertThat(env).containsEntry("LIMEDB_REPLICATION_MODE", "async")
                .containsEntry("LIMEDB_REPLICATION_MIN_IN_SYNC", "2");
    }

    @Test
    void resourcesAndSchedulingArePassedThrough() {
        var c = cluster();
        var spec = c.getSpec();
        spec.resources = new ContainerResources(Map.of("memory", "2Gi"), Map.of("cpu", "500m"));
        spec.nodeSelector = Map.of("disk", "ssd");
        spec.tolerations = List.of(new Toleration("NoSchedule", "dedicated", "Equal", null, "limedb"));
        spec.priorityClassName = "high";
        spec.topologySpreadConstraints = List.of(new TopologySpreadConstraintBuilder().withMaxSkew(1)
                .withTopologyKey("topology.kubernetes.io/zone").withWhenUnsatisfiable("ScheduleAnyway").build());
        var sts = DesiredShard.statefulSet(c, 0, SETTINGS);
        var pod = sts.getSpec().getTemplate().getSpec();
        assertThat(node(sts).getResources()).isEqualTo(new ResourceRequirementsBuilder()
                .addToLimits("memory", new Quantity("2Gi")).addToRequests("cpu", new Quantity("500m")).build());
        assertThat(pod.getNodeSelector()).isEqualTo(Map.of("disk", "ssd"));
        assertThat(pod.getTolerations()).isEqualTo(spec.tolerations);
        assertThat(pod.getPriorityClassName()).isEqualTo("high");
        assertThat(pod.getTopologySpreadConstraints()).isEqualTo(spec.topologySpreadConstraints);
    }

    @Test
    void membersOfAShardPreferDifferentNodesUnlessTheSpecSaysOtherwise() {
        var c = cluster();
        var affinity = DesiredShard.statefulSet(c, 2, SETTINGS).getSpec().getTemplate().getSpec().getAffinity();
        assertThat(affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()).isEmpty();
        var preferred = affinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
        assertThat(preferred).singleElement().satisfies(term -> {
            assertThat(term.getWeight()).isEqualTo(100);
            assertThat(term.getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
            assertThat(term.getPodAffinityTerm().getLabelSelector().getMatchLabels())
                    .isEqualTo(Labels.shardSelector(c, 2)).containsEntry("limedb.io/shard", "shard-2");
        });

        c.getSpec().affinity = new AffinityBuilder().withNewNodeAffinity()
                .withNewRequiredDuringSchedulingIgnoredDuringExecution().addNewNodeSelectorTerm()
                .addNewMatchExpression().withKey("pool").withOperator("In").withValues("db").endMatchExpression()
                .endNodeSelectorTerm().endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().build();
        assertThat(DesiredShard.statefulSet(c, 2, SETTINGS).getSpec().getTemplate().getSpec().getAffinity())
                .isEqualTo(c.getSpec().affinity);
    }

    @Test
    void headlessServicePublishesMembersBeforeTheyAreReady() {
        var c = cluster();
        var svc = DesiredShard.headlessService(c, 1);
        assertThat(svc.getMetadata().getName()).isEqualTo("demo-shard-1");
        assertThat(svc.getMetadata().getNamespace()).isEqualTo("data");
        assertThat(svc.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getController()).isTrue());
        assertThat(svc.getMetadata().getLabels()).containsEntry("limedb.io/shard", "shard-1");
        assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(svc.getSpec().getPublishNotReadyAddresses()).isTrue();
        assertThat(svc.getSpec().getSelector()).isEqualTo(Labels.shardSelector(c, 1));
        assertThat(svc.getSpec().getPorts()).extracting(p -> p.getName() + ":" + p.getPort())
                .containsExactly("grpc:9090", "http:8080");
    }

    @Test
    void disruptionBudgetLetsOneMemberGoAtATime() {
        var c = cluster();
        var pdb = DesiredShard.podDisruptionBudget(c, 1);
        assertThat(pdb.getMetadata().getName()).isEqualTo("demo-shard-1");
        assertThat(pdb.getMetadata().getNamespace()).isEqualTo("data");
        assertThat(pdb.getMetadata().getOwnerReferences()).hasSize(1);
        assertThat(pdb.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
        assertThat(pdb.getSpec().getMinAvailable()).isNull();
        assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(Labels.shardSelector(c, 1));
    }

    static Container node(StatefulSet sts) {
        var containers = sts.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).extracting(Container::getName).containsExactly("node");
        return containers.get(0);
    }

    /** Env as name → value, or {@code fieldRef:<path>} for a value taken from the pod. */
    static Map<String, String> env(Container container) {
        return container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e.getValueFrom() == null
                ? e.getValue() : "fieldRef:" + e.getValueFrom().getFieldRef().getFieldPath()));
    }

    @Test
    void theInitContainerReservesAlmostNothingForThePodsLife() {
        var init = DesiredShard.statefulSet(cluster(), 0, SETTINGS).getSpec().getTemplate().getSpec().getInitContainers()
                .getFirst();
        assertThat(init.getResources().getRequests()).containsEntry("cpu", new io.fabric8.kubernetes.api.model.Quantity("10m"))
                .containsEntry("memory", new io.fabric8.kubernetes.api.model.Quantity("16Mi"));
        assertThat(init.getResources().getLimits()).containsEntry("cpu", new io.fabric8.kubernetes.api.model.Quantity("100m"));
    }
}
