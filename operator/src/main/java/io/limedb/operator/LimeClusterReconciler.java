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
 * ({@link ClusterSupervisor}) running, and reports status. It never blocks on a failover: the
 * supervisor's thread does that work, recorded step by step in the topology ConfigMap.
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
        int shards = existing == null ? spec.shards : existing.shards().size();
        String problem = "";
        if (shards != spec.shards) {
            problem = "spec.shards changed from " + shards + " to " + spec.shards + ": moving data between shards "
                    + "(resharding) is not supported by this operator version yet; set spec.shards back to " + shards;
        }
        var supervisor = supervisors.get(cluster).orElse(null);
        if (cluster.paused()) {
            if (supervisor != null) supervisor.pause(true);
            return status(cluster, existing, supervisor, false, "", Duration.ofSeconds(10));
        }

        // The objects of the shards the topology has (not a resharded count), each StatefulSet with at
        // least the members the topology still lists (a shrinking shard hands its primary role over first).
        var effective = withShards(cluster, shards);
        for (HasMetadata obj : DesiredState.all(effective, settings)) {
            if (obj instanceof StatefulSet sts && supervisor != null) {
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
        var layout = new ClusterLayout(cluster, shards, settings);
        if (existing == null) {
            var meta = new ObjectMetaBuilder().withLabels(Labels.of(cluster, Labels.Component.TOPOLOGY))
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(cluster.getApiVersion())
                            .withKind(cluster.getKind()).withName(cluster.getMetadata().getName())
                            .withUid(cluster.getMetadata().getUid()).withController(true).withBlockOwnerDeletion(true)
                            .build()).build();
            if (store.createIfAbsent(layout.initialState(spec.replicasPerShard, spec.vnodesPerShard), meta)) {
                LOG.infof("%s/%s: topology ConfigMap %s created (%d shards x %d members)", ns,
                        cluster.getMetadata().getName(), Names.topologyConfigMap(cluster), shards, spec.replicasPerShard);
            }
        }
        supervisor = supervisors.ensure(cluster, layout, store);
        if (supervisor.topology() == null && cluster.getStatus() != null && cluster.getStatus().phase != null) {
            // A control loop that has not looked at the members yet (an operator just started or took
            // over) knows nothing of their health: keep what status says until it has, rather than lie.
            return UpdateControl.<LimeCluster>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
        }
        return status(cluster, supervisor.topology() != null ? supervisor.topology() : existing, supervisor,
                problem.isEmpty(), problem, null);
    }

    private UpdateControl<LimeCluster> status(LimeCluster cluster, Topology topology, ClusterSupervisor supervisor,
            boolean reconciled, String problem, Duration again) {
        String ns = cluster.getMetadata().getNamespace();
        var shardObs = new ArrayList<ShardObservation>();
        if (topology != null) {
            for (var s : topology.shards()) {
                int index = Names.shardIndex(s.id());
                var sts = client.apps().statefulSets().inNamespace(ns).withName(Names.shard(cluster, index)).get();
                int readyPods = sts == null || sts.getStatus() == null || sts.getStatus().getReadyReplicas() == null ? 0
                        : sts.getStatus().getReadyReplicas();
                shardObs.add(new ShardObservation(s, supervisor != null && supervisor.healthy(s.id()), readyPods,
                        supervisor == null ? Map.of() : supervisor.reports(s.id())));
            }
        }
        var dep = client.apps().deployments().inNamespace(ns).withName(Names.coordinator(cluster)).get();
        int coordReady = dep == null || dep.getStatus() == null || dep.getStatus().getReadyReplicas() == null ? 0
                : dep.getStatus().getReadyReplicas();
        var settings = new OperatorSettings(config.nodeImage(), config.clusterDomain());
        var obs = new Observation(cluster.getMetadata().getGeneration(), reconciled, cluster.getSpec().shards,
                cluster.getSpec().replicasPerShard, topology, shardObs, coordReady, cluster.getSpec().coordinator.replicas,
                Names.coordinatorEndpoint(cluster, settings), cluster.paused(), problem);
        LimeClusterStatus next = ClusterStatusCalculator.compute(obs, cluster.getStatus(), Instant.now());
        cluster.setStatus(next);
        boolean ready = "Running".equals(next.phase);
        Duration wait = again != null ? again : ready ? Duration.ofSeconds(10) : Duration.ofSeconds(2);
        return UpdateControl.patchStatus(cluster).rescheduleAfter(wait);
    }

    /** A copy of the resource whose spec.shards is {@code shards} (the desired objects of what exists). */
    private static LimeCluster withShards(LimeCluster cluster, int shards) {
        if (cluster.getSpec().shards == shards) return cluster;
        var copy = io.fabric8.kubernetes.client.utils.Serialization.clone(cluster);
        copy.getSpec().shards = shards;
        return copy;
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
