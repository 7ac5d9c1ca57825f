package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.limedb.operator.crd.LimeCluster;
import java.util.List;

/** The objects of one shard: its StatefulSet, its headless Service and its PodDisruptionBudget. */
public final class DesiredShard {
    static final String DATA = "data";
    static final String DATA_DIR = "/data";

    private DesiredShard() {}

    /**
     * The shard's StatefulSet: {@code spec.replicasPerShard} members with stable names and one
     * volume each. Pods start in parallel (members find their role through the operator, not
     * through ordinal order) and roll one at a time; volumes outlive a scale-down and, unless
     * {@code storage.whenDeleted} is Delete, the cluster.
     */
    public static StatefulSet statefulSet(LimeCluster cluster, int shard, OperatorSettings settings) {
        var spec = cluster.getSpec();
        var name = Names.shard(cluster, shard);
        return new StatefulSetBuilder()
                .withMetadata(Owned.metadata(cluster, name, Labels.ofShard(cluster, shard)))
                .withNewSpec()
                .withReplicas(spec.replicasPerShard)
                .withServiceName(name)
                .withPodManagementPolicy("Parallel")
                .withNewUpdateStrategy().withType("RollingUpdate").endUpdateStrategy()
                .withNewPersistentVolumeClaimRetentionPolicy()
                .withWhenDeleted(spec.storage.whenDeleted).withWhenScaled("Retain")
                .endPersistentVolumeClaimRetentionPolicy()
                .withNewSelector().withMatchLabels(Labels.shardSelector(cluster, shard)).endSelector()
                .withTemplate(podTemplate(cluster, shard, settings))
                .withVolumeClaimTemplates(dataClaim(cluster, shard))
                .endSpec()
                .build();
    }

    /**
     * The shard's headless Service: it gives every member the DNS name of
     * {@link Names#memberAddress}, published before the pod is ready because members must reach
     * each other (and the operator them) to become ready at all.
     */
    public static Service headlessService(LimeCluster cluster, int shard) {
        return new ServiceBuilder()
                .withMetadata(Owned.metadata(cluster, Names.shard(cluster, shard), Labels.ofShard(cluster, shard)))
                .withNewSpec()
                .withClusterIP("None")
                .withPublishNotReadyAddresses(true)
                .withSelector(Labels.shardSelector(cluster, shard))
                .withPorts(NodePods.servicePort("grpc", Names.GRPC_PORT),
                        NodePods.servicePort("http", Names.HTTP_PORT))
                .endSpec()
                .build();
    }

    /** At most one member of the shard down by a voluntary disruption (drain), so a quorum stays. */
    public static PodDisruptionBudget podDisruptionBudget(LimeCluster cluster, int shard) {
        return new PodDisruptionBudgetBuilder()
                .withMetadata(Owned.metadata(cluster, Names.shard(cluster, shard), Labels.ofShard(cluster, shard)))
                .withNewSpec()
                .withMaxUnavailable(new IntOrString(1))
                .withNewSelector().withMatchLabels(Labels.shardSelector(cluster, shard)).endSelector()
                .endSpec()
                .build();
    }

    /**
     * The pod template of a shard member, with its {@link ConfigHash} annotation. Shard pods never
     * call the API server, so no token is mounted.
     */
    static PodTemplateSpec podTemplate(LimeCluster cluster, int shard, OperatorSettings settings) {
        var spec = cluster.getSpec();
        var pod = new PodSpecBuilder()
                .withServiceAccountName(Names.nodeServiceAccount(cluster))
                .withAutomountServiceAccountToken(false)
                .withTerminationGracePeriodSeconds(NodePods.TERMINATION_GRACE_SECONDS)
                .withSecurityContext(NodePods.podSecurityContext())
                .withInitContainers(dataPermissions(cluster, settings))
                .withContainers(container(cluster, settings))
                .withVolumes(NodePods.tmpVolume())
                .withAffinity(spec.affinity != null ? spec.affinity
                        : NodePods.preferredAntiAffinity(Labels.shardSelector(cluster, shard)))
                .withTopologySpreadConstraints(spec.topologySpreadConstraints);
        var template = new PodTemplateSpecBuilder()
                .withNewMetadata().withLabels(Labels.ofShard(cluster, shard)).endMetadata()
                .withSpec(NodePods.scheduling(pod, spec).build())
                .build();
        return ConfigHash.annotate(template);
    }

    /**
     * Makes the data volume the node user's. fsGroup does that on most volume types, but not on
     * hostPath-backed ones (kind's and minikube's default provisioners create them root-owned 0750),
     * so a one-shot init container does it as root with only CHOWN and FOWNER, and only when needed.
     */
    static Container dataPermissions(LimeCluster cluster, OperatorSettings settings) {
        String owner = NodePods.USER + ":" + NodePods.USER;
        return new ContainerBuilder()
                .withName("data-permissions")
                .withImage(settings.image(cluster))
                .withImagePullPolicy(cluster.getSpec().imagePullPolicy)
                .withCommand("sh", "-c", "[ \"$(stat -c %u:%g " + DATA_DIR + ")\" = " + owner + " ] || chown " + owner
                        + " " + DATA_DIR)
                .withNewSecurityContext().withRunAsUser(0L).withRunAsNonRoot(false).withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").withAdd("CHOWN", "FOWNER").endCapabilities().endSecurityContext()
                .withVolumeMounts(NodePods.mount(DATA, DATA_DIR))
                // Requests of its own: with limits alone they would default to the limits, and a pod requests at
                // least what its init containers do, so every member would reserve 100m CPU for its whole life.
                .withNewResources().addToLimits("cpu", new Quantity("100m")).addToLimits("memory", new Quantity("32Mi"))
                .addToRequests("cpu", new Quantity("10m")).addToRequests("memory", new Quantity("16Mi")).endResources()
                .build();
    }

    /**
     * The node container in the shard role. The preStop hook lets a primary hand its role over
     * before it stops; readiness is the node's own verdict, liveness tolerates a slow recovery.
     */
    static Container container(LimeCluster cluster, OperatorSettings settings) {
        var spec = cluster.getSpec();
        return new ContainerBuilder()
                .withName(NodePods.CONTAINER)
                .withImage(settings.image(cluster))
                .withImagePullPolicy(spec.imagePullPolicy)
                .withEnv(env(cluster))
                .withPorts(NodePods.port("grpc", Names.GRPC_PORT), NodePods.port("http", Names.HTTP_PORT))
                .withReadinessProbe(NodePods.readinessProbe())
                .withLivenessProbe(NodePods.livenessProbe())
                .withNewLifecycle().withNewPreStop()
                .withNewHttpGet().withPath("/lifecycle/pre-stop").withPort(new IntOrString("http")).endHttpGet()
                .endPreStop().endLifecycle()
                .withSecurityContext(NodePods.containerSecurityContext())
                .withVolumeMounts(NodePods.mount(DATA, DATA_DIR), NodePods.mount(NodePods.TMP, "/tmp"))
                .withResources(spec.resources == null ? null : spec.resources.toRequirements())
                .build();
    }

    /**
     * The node's configuration. A single-member shard has nobody to replicate to, so it runs
     * standalone ({@code none}); minInSync never asks for more copies than the shard has.
     */
    static List<EnvVar> env(LimeCluster cluster) {
        var spec = cluster.getSpec();
        var replicas = spec.replicasPerShard;
        return List.of(
                NodePods.env("LIMEDB_ROLE", "shard"),
                NodePods.podNameEnv("LIMEDB_NODE_ID"),
                NodePods.env("LIMEDB_DATA_DIR", DATA_DIR),
                NodePods.env("LIMEDB_BIND_HOST", "0.0.0.0"),
                NodePods.env("LIMEDB_REPLICATION_MODE", replicas > 1 ? spec.replication.mode : "none"),
                NodePods.env("LIMEDB_REPLICATION_MIN_IN_SYNC",
                        Integer.toString(Math.min(spec.replication.minInSync, replicas))),
                NodePods.env("JAVA_TOOL_OPTIONS", NodePods.SHARD_JAVA_TOOL_OPTIONS),
                NodePods.hugePages());
    }

    /** One ReadWriteOnce volume per member, of {@code storage.size} in {@code storage.storageClassName}. */
    static PersistentVolumeClaim dataClaim(LimeCluster cluster, int shard) {
        var storage = cluster.getSpec().storage;
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(DATA).withLabels(Labels.ofShard(cluster, shard)).endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(storage.storageClassName)
                .withNewResources().addToRequests("storage", new Quantity(storage.size)).endResources()
                .endSpec()
                .build();
    }
}
