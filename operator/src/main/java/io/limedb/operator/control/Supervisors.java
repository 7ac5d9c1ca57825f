package io.limedb.operator.control;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.limedb.core.control.ControlEvent;
import io.limedb.core.control.ControlLoop;
import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.topology.ReplicationMode;
import io.limedb.operator.OperatorConfig;
import io.limedb.operator.crd.LimeCluster;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/** One {@link ClusterSupervisor} per LimeCluster this operator reconciles (so only on the leader). */
@ApplicationScoped
public class Supervisors {
    private static final Logger LOG = Logger.getLogger(Supervisors.class);

    @Inject
    KubernetesClient client;
    @Inject
    OperatorConfig config;
    @Inject
    MeterRegistry registry;

    private final Map<String, ClusterSupervisor> running = new ConcurrentHashMap<>();
    private final Map<String, List<Meter>> gauges = new ConcurrentHashMap<>();
    private final Map<String, Wait> lastWait = new ConcurrentHashMap<>();
    private volatile LeaseCheck lease;
    private volatile boolean stopping;
    private volatile java.util.function.Consumer<io.javaoperatorsdk.operator.processing.event.ResourceID> changed = id -> { };

    /** Told when a cluster's topology or health changes, so that its status is reconciled at once. */
    public void onChange(java.util.function.Consumer<io.javaoperatorsdk.operator.processing.event.ResourceID> listener) {
        this.changed = listener;
    }

    private static String key(LimeCluster c) {
        return c.getMetadata().getNamespace() + "/" + c.getMetadata().getName();
    }

    /** The cluster's supervisor, started if needed, with the spec's settings applied. */
    public ClusterSupervisor ensure(LimeCluster cluster, ClusterLayout layout, ConfigMapTopologyStore store) {
        var settings = settings(cluster);
        var s = running.computeIfAbsent(key(cluster), k -> {
            LOG.infof("%s: starting its control loop (%s)", k, store.describe());
            var events = new ClusterEvents(client, cluster);
            String name = cluster.getMetadata().getName();
            String ns = cluster.getMetadata().getNamespace();
            var id = new io.javaoperatorsdk.operator.processing.event.ResourceID(name, ns);
            var supervisor = new ClusterSupervisor(client, layout, store, settings, e -> onEvent(ns, name, events, e),
                    events, () -> changed.accept(id), this::mayAct);
            gauges.put(k, List.of(
                    Gauge.builder("limedb.operator.resharding.ranges.moved", supervisor, x -> x.reshardingRanges()[0])
                            .description("ring ranges whose ownership flipped in the resharding in progress (0: none)")
                            .tag("cluster", k).register(registry),
                    Gauge.builder("limedb.operator.resharding.ranges.total", supervisor, x -> x.reshardingRanges()[1])
                            .description("ring ranges that change owner in the resharding in progress (0: none)")
                            .tag("cluster", k).register(registry)));
            return supervisor;
        });
        s.update(settings, cluster.paused());
        return s;
    }

    public Optional<ClusterSupervisor> get(LimeCluster cluster) {
        return Optional.ofNullable(running.get(key(cluster)));
    }

    public void stop(LimeCluster cluster) {
        var s = running.remove(key(cluster));
        var meters = gauges.remove(key(cluster));
        if (meters != null) meters.forEach(registry::remove);
        if (s != null) {
            LOG.infof("%s: stopping its control loop", key(cluster));
            s.close();
        }
    }

    /**
     * Whether control loops may act now: not while the operator shuts down, and, with leader
     * election, only while this replica holds the lease (a replica that lost it, or is being replaced
     * and no longer renews it, stops within a second instead of acting on an old spec).
     */
    boolean mayAct() {
        if (stopping) return false;
        var l = lease;
        if (l == null) {
            synchronized (this) {
                if (lease == null) lease = LeaseCheck.fromEnvironment(client);
                l = lease;
            }
        }
        return l.held();
    }

    ClusterSupervisor.Settings settings(LimeCluster c) {
        var spec = c.getSpec();
        int replicas = spec.replicasPerShard;
        ReplicationMode mode = replicas == 1 ? ReplicationMode.NONE
                : ReplicationMode.valueOf(spec.replication.mode.toUpperCase(Locale.ROOT));
        int minInSync = Math.min(spec.replication.minInSync, replicas);
        var policy = new FailoverPolicy(mode, minInSync, spec.replication.maxLagOnFailover, false);
        long timeoutMs = spec.failover.primaryUnavailableSeconds * 1000L;
        return new ClusterSupervisor.Settings(new ControlLoop.Settings(policy, timeoutMs, spec.failover.enabled),
                replicas, config.tickMs());
    }

    private void onEvent(String ns, String name, ClusterEvents events, ControlEvent e) {
        String msg = e.message();
        if (e.warning()) LOG.warnf("%s/%s: %s", ns, name, msg);
        else LOG.infof("%s/%s: %s", ns, name, msg);
        switch (e) {
            case ControlEvent.FailoverCompleted done -> {
                var f = done.failover();
                long ms = Duration.ofNanos(f.promotedNanos() - f.detectedNanos()).toMillis();
                if (f.bootstrap()) {
                    events.normal("PrimaryElected", f.shard() + ": " + f.to() + " is primary at epoch " + f.toEpoch());
                } else {
                    events.warning("FailoverCompleted", f.shard() + ": primary " + f.from() + " -> " + f.to()
                            + ", epoch " + f.fromEpoch() + " -> " + f.toEpoch() + ", " + ms + " ms from detection to"
                            + " promotion, expected loss " + f.expectedLossRecords() + " records");
                    registry.counter("limedb.operator.failovers", "cluster", ns + "/" + name, "shard", f.shard())
                            .increment();
                    Timer.builder("limedb.operator.failover.duration").tag("cluster", ns + "/" + name)
                            .register(registry).record(Duration.ofMillis(ms));
                }
            }
            case ControlEvent.FailoverStarted s when s.fromEpoch() > 0 -> events.warning("FailoverStarted", msg);
            case ControlEvent.Refused r when r.bootstrap() -> events.normal("WaitingForMembers", msg);
            case ControlEvent.Refused r -> events.warning("FailoverRefused", msg);
            case ControlEvent.PromoteFailed p -> events.warning("PromoteFailed", msg);
            case ControlEvent.PrimarySuspected p -> events.warning("PrimaryUnreachable", msg);
            case ControlEvent.ReshardingStarted r -> events.normal("ReshardingStarted", msg);
            case ControlEvent.MoveCaughtUp m -> events.normal("MoveCaughtUp", msg);
            case ControlEvent.MoveFlipped m -> events.normal("MoveFlipped", msg);
            case ControlEvent.MoveDone m -> events.normal("MoveDone", msg);
            case ControlEvent.ReshardingCompleted r -> {
                events.normal("ReshardingCompleted", msg);
                registry.counter("limedb.operator.reshardings", "cluster", ns + "/" + name).increment();
                registry.counter("limedb.operator.resharding.keys.moved", "cluster", ns + "/" + name).increment(r.keys());
            }
            case ControlEvent.ReshardingWaits w -> {
                // Outside a resharding the loop only re-tells a new primary (after a failover) what it owns:
                // a refusal while its lease starts is no news for kubectl describe.
                var sup = running.get(ns + "/" + name);
                boolean resharding = sup == null || sup.reshardingRanges()[1] > 0;
                if (resharding && newWait(ns + "/" + name, msg)) events.warning("ReshardingWaits", msg);
            }
            default -> { }
        }
    }

    /**
     * Whether a ReshardingWaits is worth an Event: the loop reports each distinct reason once, but reasons
     * that differ only in their figures (a deadline's exact time, a seq) would make one Event per retry.
     * Those are recorded at most once a minute; the log has every one.
     */
    private boolean newWait(String cluster, String message) {
        String shape = message.replaceAll("[0-9]+", "#");
        long now = System.nanoTime();
        var last = lastWait.get(cluster);
        if (last != null && last.shape().equals(shape) && now - last.atNanos() < Duration.ofMinutes(1).toNanos()) {
            return false;
        }
        lastWait.put(cluster, new Wait(shape, now));
        return true;
    }

    private record Wait(String shape, long atNanos) {}

    void onShutdown(@Observes ShutdownEvent event) {
        stopping = true;
        stopAll();
    }

    @PreDestroy
    void stopAll() {
        running.values().forEach(ClusterSupervisor::close);
        running.clear();
    }
}
