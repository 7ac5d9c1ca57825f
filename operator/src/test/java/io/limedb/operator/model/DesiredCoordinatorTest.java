package io.limedb.operator.model;

import static io.limedb.operator.model.DesiredShardTest.env;
import static io.limedb.operator.model.TestClusters.SETTINGS;
import static io.limedb.operator.model.TestClusters.cluster;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.limedb.operator.crd.ContainerResources;
import io.limedb.operator.model.Labels.Component;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DesiredCoordinatorTest {

    @Test
    void deploymentIsNamedOwnedAndSelectsCoordinatorPods() {
        var c = cluster();
        c.getSpec().coordinator.replicas = 4;
        var deployment = DesiredCoordinator.deployment(c, SETTINGS);
        assertThat(deployment.getMetadata().getName()).isEqualTo("demo-coordinator");
        assertThat(deployment.getMetadata().getNamespace()).isEqualTo("data");
        assertThat(deployment.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-1"));
        assertThat(deployment.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "coordinator")
                .containsEntry("app.kubernetes.io/managed-by", "limedb-operator").doesNotContainKey("limedb.io/shard");
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(4);
        assertThat(deployment.getSpec().getSelector().getMatchLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "app.kubernetes.io/name", "limedb", "app.kubernetes.io/instance", "demo",
                "app.kubernetes.io/component", "coordinator"));
        assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());
    }

    @Test
    void podReadsTheTopologyThroughTheApiAsANonRootUser() {
        var pod = DesiredCoordinator.deployment(cluster(), SETTINGS).getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("demo-node");
        assertThat(pod.getAutomountServiceAccountToken()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(10001L);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        var container = pod.getContainers().get(0);
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getVolumeMounts()).extracting(m -> m.getName() + ":" + m.getMountPath())
                .containsExactly("tmp:/tmp");
        assertThat(pod.getVolumes()).singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
    }

    @Test
    void containerIsACoordinatorOnTheClustersTopologyAndRing() {
        var c = cluster();
        c.getSpec().vnodesPerShard = 64;
        c.getSpec().coordinator.resources = new ContainerResources(null, Map.of("memory", "256Mi"));
        var container = DesiredCoordinator.deployment(c, SETTINGS).getSpec().getTemplate().getSpec().getContainers()
                .get(0);
        assertThat(container.getName()).isEqualTo("node");
        assertThat(container.getImage()).isEqualTo("limedb/node:default");
        assertThat(env(container)).containsEntry("LIMEDB_ROLE", "coordinator")
                .containsEntry("LIMEDB_TOPOLOGY_CONFIGMAP", "demo-topology")
                .containsEntry("LIMEDB_BIND_HOST", "0.0.0.0")
                .containsEntry("LIMEDB_RING_VNODES", "64")
                .containsEntry("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=50 -XX:+UseSerialGC -XX:+UseTransparentHugePages -Djava.io.tmpdir=/tmp -Dnetworkaddress.cache.ttl=5 "
                        + "-Dsun.net.inetaddr.ttl=5 -Dsun.net.inetaddr.negative.ttl=1")
                .containsEntry("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
        assertThat(container.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .containsExactly("resp:6379", "http:8080", "grpc:9090");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
        assertThat(container.getResources()).isEqualTo(new ResourceRequirementsBuilder()
                .addToRequests("memory", new Quantity("256Mi")).build());
    }

    @Test
    void schedulingIsPassedThroughAndCoordinatorsPreferDifferentNodes() {
        var c = cluster();
        c.getSpec().nodeSelector = Map.of("pool", "front");
        c.getSpec().tolerations = List.of(new Toleration("NoSchedule", "dedicated", "Equal", null, "limedb"));
        c.getSpec().priorityClassName = "high";
        var pod = DesiredCoordinator.deployment(c, SETTINGS).getSpec().getTemplate().getSpec();
        assertThat(pod.getNodeSelector()).isEqualTo(Map.of("pool", "front"));
        assertThat(pod.getTolerations()).isEqualTo(c.getSpec().tolerations);
        assertThat(pod.getPriorityClassName()).isEqualTo("high");
        var preferred = pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
        assertThat(preferred).singleElement().satisfies(term -> {
            assertThat(term.getWeight()).isEqualTo(100);
            assertThat(term.getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
            assertThat(term.getPodAffinityTerm().getLabelSelector().getMatchLabels())
                    .isEqualTo(Labels.selector(c, Component.COORDINATOR));
        });
    }

    @Test
    void serviceMapsTheUsersPortsOntoTheNamedContainerPorts() {
        var c = cluster();
        c.getSpec().coordinator.serviceType = "LoadBalancer";
        c.getSpec().coordinator.ports.resp = 16379;
        c.getSpec().coordinator.ports.http = 80;
        var svc = DesiredCoordinator.service(c);
        assertThat(svc.getMetadata().getName()).isEqualTo("demo-coordinator");
        assertThat(svc.getMetadata().getNamespace()).isEqualTo("data");
        assertThat(svc.getMetadata().getOwnerReferences()).hasSize(1);
        assertThat(svc.getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(svc.getSpec().getSelector()).isEqualTo(Labels.selector(c, Component.COORDINATOR));
        assertThat(svc.getSpec().getPorts())
                .extracting(p -> p.getName() + ":" + p.getPort() + "->" + p.getTargetPort().getStrVal())
                .containsExactly("resp:16379->resp", "http:80->http", "grpc:9090->grpc");
    }
}
