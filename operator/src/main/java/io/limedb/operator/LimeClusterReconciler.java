package io.limedb.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.limedb.core.topology.Topology;
import io.limedb.operator.control.ClusterEvents;
import io.limedb.operator.control.ClusterLayout;
import io.limedb.operator.control.ClusterSupervisor;
import io.limedb.operator.control.ConfigMapTopologyStore;
import io.limedb.operator.control.Supervisors;
import io.limedb.operator.crd.LimeCluster;
import io.limedb.operator.crd.LimeClusterStatus;
import io.limedb.operator.model.DesiredState;
import io.limedb.operator.model.Labels;
import io.limedb.operator.model.Names;
import io.limedb.operator.model.OperatorSettings;
import io.limedb.operator.scaling.ShardScaling;
import io.limedb.operator.status.ClusterStatusCalculator;
import io.limedb.operator.status.ClusterStatusCalculator.Observation;
import io.limedb.operator.status.ClusterStatusCalculator.ShardObservation;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Turns a LimeCluster into its objects (computed by {@link DesiredState}, applied with server-side
 * apply, owned by the LimeCluster), creates its topology ConfigMap once, keeps its control loop
 * ({@link ClusterSupervisor}) running, and reports status. It never blocks on a failover or a
 * resharding: the supervisor's thread does that work, recorded step by step in the topology ConfigMap.
 * A change of spec.shards gets the new shards' objects at once, and the removed shards' objects are
 * deleted only once those shards have left the topology.
 */
@ControllerConfiguration(name = "limecluster")
public class LimeClusterReconciler implements Reconciler<LimeCluster>, Cleaner<LimeCluster> {
    private static final Logger LOG = Logger.getLogger(LimeClusterReconciler.class);
    private static final String FIELD_MANAGER = "limedb-operator";

    @Inject
    KubernetesClient client;
    @Inject
    OperatorConfig config;
    @Inject
    Supervisors supervisors;
    @Inject
    MeterRegistry registry;

    @Override
    public List<EventSource<?, LimeCluster>> prepareEventSources(EventSourceContext<LimeCluster> context) {
        String selector = Labels.MANAGED_BY + "=" + Labels.MANAGER;
        var sts = new InformerEventSource<>(InformerEventSourceConfiguration.from(StatefulSet.class, LimeCluster.class)
                .withLabelSelector(selector).build(), context);
        var deploy = new InformerEventSource<>(InformerEventSourceConfiguration.from(Deployment.class, LimeCluster.class)
                .withLabelSelector(selector).build(), context);
        // the control loops' thread tells when a topology or a primary's health changed
        var loops = new io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource<LimeCluster>(
                "control-loops");
        supervisors.onChange(loops::propagateEvent);
        return List.of(sts, deploy, loops);
    }

    @Override
    public UpdateControl<LimeCluster> reconcile(LimeCluster cluster, Context<LimeCluster> context) {
        var sample = Timer.start(registry);
        String outcome = "ok";
        try {
            return doReconcile(cluster);
        } catch (RuntimeException e) {
            outcome = "error";
            throw e;
        } finally {
            sample.stop(registry.timer("limedb.operator.reconcile", "outcome", outcome));
        }
    }

    private UpdateControl<LimeCluster> doReconcile(LimeCluster cluster) {
        String ns = cluster.getMetadata().getNamespace();
        var settings = new OperatorSettings(config.nodeImage(), config.clusterDomain());
        var spec = cluster.getSpec();
        var store = new ConfigMapTopologyStore(client, ns, Names.topologyConfigMap(cluster), spec.vnodesPerShard);
        var existing = store.readIfExists().map(v -> v.state().topology()).orElse(null);
        var supervisor = supervisors.get(cluster).orElse(null);
        if (cluster.paused()) {
            if (supervisor != null) supervisor.pause(true);
            return status(cluster, existing, supervisor, false, "", null, Duration.ofSeconds(10));
        }
        var invalid = spec.problems();
        if (!invalid.isEmpty()) {
            // Stored before the CRD refused it (the CRD refuses these on create and update). Nothing is built
            // from it; a running cluster's control loop keeps failing over, and the other clusters go on.
            String problem = "the spec cannot be applied: " + String.join("; ", invalid);
            LOG.warnf("%s/%s: %s", ns, cluster.getMetadata().getName(), problem);
            return status(cluster, supervisor != null && supervisor.topology() != null ? supervisor.topology() : existing,
                    supervisor, false, problem, null, Duration.ofSeconds(30));
        }

        var layout = new ClusterLayout(cluster, existing == null ? spec.shards : existing.shards().size(), settings);
        if (existing == null) {
            var meta = new ObjectMetaBuilder().withLabels(Labels.of(cluster, Labels.Component.TOPOLOGY))
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(cluster.getApiVersion())
                            .withKind(cluster.getKind()).withName(cluster.getMetadata().getName())
                            .withUid(cluster.getMetadata().getUid()).withController(true).withBlockOwnerDeletion(true)
                            .build()).build();
            if (store.createIfAbsent(layout.initialState(spec.replicasPerShard, spec.vnodesPerShard), meta)) {
                LOG.infof("%s/%s: topology ConfigMap %s created (%d shards x %d members)", ns,
                        cluster.getMetadata().getName(), Names.topologyConfigMap(cluster), spec.shards,
                        spec.replicasPerShard);
            }
        }
        supervisor = supervisors.ensure(cluster, layout, store);
        // Which shards have objects follows the topology, not spec.shards alone: a new shard's objects come
        // first, and a shard's go only once it has left the topology (its ranges moved away).
        var scaling = supervisor.target(spec.shards, spec.storage.size);
        String problem = scaling.step() instanceof ShardScaling.Step.Refused r ? r.message() : "";
        for (HasMetadata obj : DesiredState.all(cluster, settings, scaling.shardObjects())) {
            if (obj instanceof StatefulSet sts) {
                // each StatefulSet keeps at least the members the topology still lists (a shrinking shard
                // hands its primary role over first)
                int shard = Names.shardIndex(sts.getMetadata().getLabels().get(Labels.SHARD));
                int listed = supervisor.topologyMembers(shard);
                if (listed > sts.getSpec().getReplicas()) sts.getSpec().setReplicas(listed);
            }
            try {
                client.resource(obj).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
            } catch (KubernetesClientException e) {
                String what = obj.getKind() + " " + obj.getMetadata().getName();
                LOG.warnf("%s/%s: cannot apply %s: %s", ns, cluster.getMetadata().getName(), what, e.getMessage());
                problem = "cannot apply " + what + ": " + e.getMessage();
            }
        }
        deleteRemovedShards(cluster, scaling.shardObjects());
        if (supervisor.topology() == null && cluster.getStatus() != null && cluster.getStatus().phase != null) {
            // A control loop that has not looked at the members yet (an operator just started or took
            // over) knows nothing of their health: keep what status says until it has, rather than lie.
            return UpdateControl.<LimeCluster>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
        }
        return status(cluster, supervisor.topology() != null ? supervisor.topology() : existing, supervisor,
                problem.isEmpty(), problem, scaling, null);
    }

    /**
     * Deletes the StatefulSet, headless Service and PodDisruptionBudget of every shard of this cluster
     * that is not in {@code keep}: shards that left the topology after a resharding moved their ranges
     * away. Their volumes follow the StatefulSet's PVC retention policy (storage.whenDeleted).
     */
    private void deleteRemovedShards(LimeCluster cluster, java.util.SortedSet<Integer> keep) {
        String ns = cluster.getMetadata().getNamespace();
        var selector = Labels.selector(cluster, Labels.Component.SHARD);
        // StatefulSets, Services and PDBs alike: an operator stopped half way leaves some of them behind
        var found = new java.util.TreeSet<Integer>();
        var objects = new ArrayList<HasMetadata>();
        objects.addAll(client.apps().statefulSets().inNamespace(ns).withLabels(selector).list().getItems());
        objects.addAll(client.services().inNamespace(ns).withLabels(selector).list().getItems());
        objects.addAll(client.policy().v1().podDisruptionBudget().inNamespace(ns).withLabels(selector).list().getItems());
        for (var obj : objects) {
            var meta = obj.getMetadata();
            boolean owned = meta.getOwnerReferences() != null && meta.getOwnerReferences().stream()
                    .anyMatch(r -> cluster.getMetadata().getUid().equals(r.getUid()));
            if (!owned || meta.getDeletionTimestamp() != null || meta.getLabels() == null) continue;
            try {
                found.add(Names.shardIndex(meta.getLabels().get(Labels.SHARD)));
            } catch (IllegalArgumentException notAShard) {
                // not one of ours
            }
        }
        found.removeAll(keep);
        for (int index : found) {
            String name = Names.shard(cluster, index);
            client.apps().statefulSets().inNamespace(ns).withName(name).delete();
            client.services().inNamespace(ns).withName(name).delete();
            client.policy().v1().podDisruptionBudget().inNamespace(ns).withName(name).delete();
            String volumes = "Delete".equals(cluster.getSpec().storage.whenDeleted)
                    ? "its volumes are deleted with it (storage.whenDeleted: Delete)"
                    : "its volumes data-" + name + "-* are kept (storage.whenDeleted: Retain): delete them to free "
                            + "the space, or a shard-" + index + " added later reuses them";
            LOG.infof("%s/%s: %s is out of the topology: StatefulSet, Service and PodDisruptionBudget %s deleted; %s",
                    ns, cluster.getMetadata().getName(), Names.shardId(index), name, volumes);
            new ClusterEvents(client, cluster).normal("ShardDeleted", Names.shardId(index) + " is out of the topology: "
                    + "StatefulSet, Service and PodDisruptionBudget " + name + " deleted; " + volumes);
        }
    }

    private UpdateControl<LimeCluster> status(LimeCluster cluster, Topology topology, ClusterSupervisor supervisor,
            boolean reconciled, String problem, ShardScaling.Decision scaling, Duration again) {
        String ns = cluster.getMetadata().getNamespace();
        var shardObs = new ArrayList<ShardObservation>();
        if (topology != null) {
            for (var s : topology.shards()) {
                int index = Names.shardIndex(s.id());
                var sts = client.apps().statefulSets().inNamespace(ns).withName(Names.shard(cluster, index)).get();
                int readyPods = sts == null || sts.getStatus() == null || sts.getStatus().getReadyReplicas() == null ? 0
                        : sts.getStatus().getReadyReplicas();
                shardObs.add(new ShardObservation(s, supervisor != null && supervisor.takesWrites(s.id()), readyPods,
                        supervisor == null ? Map.of() : supervisor.reports(s.id())));
            }
        }
        var dep = client.apps().deployments().inNamespace(ns).withName(Names.coordinator(cluster)).get();
        int coordReady = dep == null || dep.getStatus() == null || dep.getStatus().getReadyReplicas() == null ? 0
                : dep.getStatus().getReadyReplicas();
        var settings = new OperatorSettings(config.nodeImage(), config.clusterDomain());
        var obs = new Observation(cluster.getMetadata().getGeneration(), reconciled, cluster.getSpec().shards,
                cluster.getSpec().replicasPerShard, topology, shardObs, coordReady, cluster.getSpec().coordinator.replicas,
                Names.coordinatorEndpoint(cluster, settings), cluster.paused(), problem, scaling);
        LimeClusterStatus next = ClusterStatusCalculator.compute(obs, cluster.getStatus(), Instant.now());
        cluster.setStatus(next);
        boolean ready = "Running".equals(next.phase);
        Duration wait = again != null ? again : ready ? Duration.ofSeconds(10) : Duration.ofSeconds(2);
        return UpdateControl.patchStatus(cluster).rescheduleAfter(wait);
    }

    @Override
    public DeleteControl cleanup(LimeCluster cluster, Context<LimeCluster> context) {
        supervisors.stop(cluster);
        LOG.infof("%s/%s deleted: its objects go with it (owner references); volumes: %s",
                cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(),
                cluster.getSpec().storage.whenDeleted);
        return DeleteControl.defaultDelete();
    }
}
