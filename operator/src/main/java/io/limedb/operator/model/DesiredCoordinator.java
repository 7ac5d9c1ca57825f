package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.limedb.operator.crd.LimeCluster;
import io.limedb.operator.model.Labels.Component;

/** The coordinator tier: a Deployment of stateless routers and the Service clients connect to. */
public final class DesiredCoordinator {

    private DesiredCoordinator() {}

    /**
     * The coordinator Deployment: {@code spec.coordinator.replicas} interchangeable routers that
     * follow the topology ConfigMap through the API, spread over nodes when the scheduler can.
     */
    public static Deployment deployment(LimeCluster cluster, OperatorSettings settings) {
        return new DeploymentBuilder()
                .withMetadata(Owned.metadata(cluster, Names.coordinator(cluster), Component.COORDINATOR))
                .withNewSpec()
                .withReplicas(cluster.getSpec().coordinator.replicas)
                .withNewSelector().withMatchLabels(Labels.selector(cluster, Component.COORDINATOR)).endSelector()
                .withTemplate(podTemplate(cluster, settings))
                .endSpec()
                .build();
    }

    /**
     * The coordinator Service, of {@code spec.coordinator.serviceType}: the user's resp/http/grpc
     * ports mapped onto the container's named ports, so changing a Service port restarts nothing.
     */
    public static Service service(LimeCluster cluster) {
        var ports = cluster.getSpec().coordinator.ports;
        return new ServiceBuilder()
                .withMetadata(Owned.metadata(cluster, Names.coordinator(cluster), Component.COORDINATOR))
                .withNewSpec()
                .withType(cluster.getSpec().coordinator.serviceType)
                .withSelector(Labels.selector(cluster, Component.COORDINATOR))
                .withPorts(NodePods.servicePort("resp", ports.resp), NodePods.servicePort("http", ports.http),
                        NodePods.servicePort("grpc", ports.grpc))
                .endSpec()
                .build();
    }

    /**
     * The coordinator pod template, with its {@link ConfigHash} annotation. Unlike shard pods it
     * mounts the {@code <N>-node} token: coordinators read the topology ConfigMap. {@code spec.affinity}
     * and topology spread constraints are documented for shard pods, so coordinators get only a
     * preferred anti-affinity among themselves.
     */
    static PodTemplateSpec podTemplate(LimeCluster cluster, OperatorSettings settings) {
        var pod = new PodSpecBuilder()
                .withServiceAccountName(Names.nodeServiceAccount(cluster))
                .withAutomountServiceAccountToken(true)
                .withTerminationGracePeriodSeconds(NodePods.TERMINATION_GRACE_SECONDS)
                .withSecurityContext(NodePods.podSecurityContext())
                .withContainers(container(cluster, settings))
                .withVolumes(NodePods.tmpVolume())
                .withAffinity(NodePods.preferredAntiAffinity(Labels.selector(cluster, Component.COORDINATOR)));
        var template = new PodTemplateSpecBuilder()
                .withNewMetadata().withLabels(Labels.of(cluster, Component.COORDINATOR)).endMetadata()
                .withSpec(NodePods.scheduling(pod, cluster.getSpec()).build())
                .build();
        return ConfigHash.annotate(template);
    }

    /** The node container in the coordinator role; its ports are fixed, the Service maps the user's. */
    static Container container(LimeCluster cluster, OperatorSettings settings) {
        var spec = cluster.getSpec();
        return new ContainerBuilder()
                .withName(NodePods.CONTAINER)
                .withImage(settings.image(cluster))
                .withImagePullPolicy(spec.imagePullPolicy)
                .withEnv(NodePods.env("LIMEDB_ROLE", "coordinator"),
                        NodePods.podNameEnv("LIMEDB_NODE_ID"),
                        NodePods.env("LIMEDB_TOPOLOGY_CONFIGMAP", Names.topologyConfigMap(cluster)),
                        NodePods.env("LIMEDB_BIND_HOST", "0.0.0.0"),
                        NodePods.env("LIMEDB_RING_VNODES", Integer.toString(spec.vnodesPerShard)),
                        NodePods.env("JAVA_TOOL_OPTIONS", NodePods.COORDINATOR_JAVA_TOOL_OPTIONS),
                        NodePods.hugePages())
                .withPorts(NodePods.port("resp", Names.RESP_PORT), NodePods.port("http", Names.HTTP_PORT),
                        NodePods.port("grpc", Names.GRPC_PORT))
                .withReadinessProbe(NodePods.readinessProbe())
                .withLivenessProbe(NodePods.livenessProbe())
                .withSecurityContext(NodePods.containerSecurityContext())
                .withVolumeMounts(NodePods.mount(NodePods.TMP, "/tmp"))
                .withResources(spec.coordinator.resources == null ? null : spec.coordinator.resources.toRequirements())
                .build();
    }
}
