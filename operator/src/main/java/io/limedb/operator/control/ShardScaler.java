package io.limedb.operator.control;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.limedb.core.control.ClusterState;
import io.limedb.core.control.ControlLoop;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.operator.model.Labels;
import io.limedb.operator.model.Names;
import io.limedb.operator.scaling.Capacity;
import io.limedb.operator.scaling.ShardScaling;
import io.limedb.operator.scaling.ShardScaling.Step;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.jboss.logging.Logger;

/**
 * Applies {@code spec.shards} to a running cluster, one step per tick of its {@link ClusterSupervisor},
 * as {@link ShardScaling} decides from the topology store: a new shard joins the topology once its pods
 * are ready (the loop elects its first primary), the loop reshards to the new ring (a scale-in only when
 * the data fits, see {@link Capacity}: the primaries' Stats), and the shards it emptied leave the
 * topology, after which the reconciler deletes their objects. Each step says so in an Event.
 */
final class ShardScaler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ShardScaler.class);
    private static final long RECHECK_REFUSAL_MS = 10_000;

    private final ClusterLayout layout;
    private final ConfigMapTopologyStore store;
    private final SharedIndexInformer<Pod> pods;
    private final ClusterEvents events;
    private final Runnable onChange;
    private final IntSupplier replicasPerShard;
    private final java.util.function.Consumer<ShardInfo> retire;
    private final ShardStats stats = new ShardStats();
    // Steps that add or remove shards and the reconciler's decisions (which StatefulSets may go) hold this
    // lock, so that a shard the reconciler found outside the topology is not added before a later spec
    // asks for it.
    private final Object lock = new Object();
    private volatile int desiredShards;
    private volatile String storageSize = "1Gi";
    private volatile ShardScaling.Refusal refusal;
    private volatile ShardScaling.Decision lastDecision;
    private long refusalCheckedAt;
    private String refusalCheckedSize = "";
    private String lastNote = "";

    ShardScaler(ClusterLayout layout, ConfigMapTopologyStore store, SharedIndexInformer<Pod> pods, ClusterEvents events,
            Runnable onChange, IntSupplier replicasPerShard, java.util.function.Consumer<ShardInfo> retire) {
        this.retire = retire;
        this.layout = layout;
        this.store = store;
        this.pods = pods;
        this.events = events;
        this.onChange = onChange;
        this.replicasPerShard = replicasPerShard;
    }

    /**
     * Sets spec.shards (and storage.size, which bounds a scale-in) and decides, from the store's state
     * now, what changing it takes: which shards must keep or get their objects, and what status shows.
     */
    ShardScaling.Decision target(ControlLoop l, int shards, String size) {
        synchronized (lock) {
            this.desiredShards = shards;
            this.storageSize = size;
            return decide(l, store.read().state(), shards);
        }
    }

    /** The decision of the last step; null before the first. */
    ShardScaling.Decision lastDecision() {
        return lastDecision;
    }

    private ShardScaling.Decision decide(ControlLoop l, ClusterState state, int shards) {
        var serving = new HashSet<String>();
        var ring = state.topology().ownership().shards();
        for (ShardInfo s : state.topology().shards()) {
            // A shard of the ring needs a primary that answers at its epoch (no failover under way). A new shard
            // must take writes before keys move into it: its first primary has waited out the read lease and,
            // under sync replication, has the replicas in sync that a write needs. Otherwise the resharding's
            // first copies would be refused.
            if (ring.contains(s.id()) ? l.healthy(s.id()) : l.takesWrites(s.id())) serving.add(s.id());
        }
        var readyPods = new HashMap<String, Integer>();
        var problems = new TreeMap<String, String>();
        for (Pod p : pods.getStore().list()) {
            var shard = p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(Labels.SHARD);
            if (shard == null || p.getMetadata().getDeletionTimestamp() != null) continue;
            if (Readiness.isPodReady(p)) {
                readyPods.merge(shard, 1, Integer::sum);
            } else {
                String why = notReadyBecause(p);
                if (!why.isEmpty()) problems.putIfAbsent(shard, p.getMetadata().getName() + " " + why);
            }
        }
        return ShardScaling.decide(new ShardScaling.Input(state, shards, replicasPerShard.getAsInt(), serving,
                readyPods, problems, refusal));
    }

    /** Why a pod is not ready when it is stuck rather than starting: unschedulable, or a container waiting on an error. */
    private static String notReadyBecause(Pod p) {
        var st = p.getStatus();
        if (st == null) return "";
        if (st.getConditions() != null) {
            for (var c : st.getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
                    return "unschedulable: " + Objects.requireNonNullElse(c.getMessage(), c.getReason());
                }
            }
        }
        var statuses = new ArrayList<ContainerStatus>();
        if (st.getInitContainerStatuses() != null) statuses.addAll(st.getInitContainerStatuses());
        if (st.getContainerStatuses() != null) statuses.addAll(st.getContainerStatuses());
        for (var c : statuses) {
            var waiting = c.getState() == null ? null : c.getState().getWaiting();
            if (waiting != null && waiting.getReason() != null && !"ContainerCreating".equals(waiting.getReason())
                    && !"PodInitializing".equals(waiting.getReason())) {
                return c.getName() + " " + waiting.getReason();
            }
        }
        return "";
    }

    /** One step towards spec.shards, after the loop's tick: never two topology changes in one tick. */
    void step(ControlLoop l) {
        int n = desiredShards;
        if (n <= 0) return;
        recheckRefusal(l, n);
        ShardScaling.Decision d;
        synchronized (lock) {
            d = decide(l, l.state(), n);
            lastDecision = d;
            switch (d.step()) {
                case Step.AddShard a -> {
                    addShard(l, a.shard(), d);
                    return;
                }
                case Step.RemoveShards r -> {
                    for (String s : r.shards()) {
                        l.state().topology().shard(s).ifPresent(retire);
                        l.removeShard(s);
                        note(false, "ShardRemoved", s + " left the topology (it owns no range); its StatefulSet, "
                                + "Service and PodDisruptionBudget are deleted next");
                    }
                    onChange.run();
                    return;
                }
                default -> { }
            }
        }
        switch (d.step()) {
            case Step.StartResharding r -> startResharding(l, r, n);
            case Step.RollBack r -> {
                note(false, "ReshardingRollback", "spec.shards is back to " + r.ring().size() + " while the resharding "
                        + d.from() + " -> " + d.to() + " shards runs: rolling it back (ranges that moved move back, the "
                        + "shards added for it are removed)");
                l.reshard(r.ring());
                onChange.run();
            }
            case Step.Queued q -> note(false, "ReshardingQueued", "spec.shards " + q.desired() + " is queued: the "
                    + "resharding " + d.from() + " -> " + d.to() + " shards runs first, and cannot change its target "
                    + "half way; " + q.desired() + " is applied once it is done");
            case Step.Refused r -> note(true, r.reason(), r.message());
            case Step.WaitForPods w -> log(d.message());
            case Step.WaitForPrimaries w -> log(d.message());
            default -> { }
        }
    }

    private void addShard(ControlLoop l, String shardId, ShardScaling.Decision d) {
        int index = Names.shardIndex(shardId);
        var ms = new ArrayList<>(layout.members(index, replicasPerShard.getAsInt()));
        ms.set(0, new Member(ms.get(0).id(), ms.get(0).address(), Role.PRIMARY)); // a placeholder until elected
        l.addShard(new ShardInfo(shardId, 0, ms));
        note(false, "ShardAdded", shardId + " joined the topology with " + ms.size() + " members (scaling " + d.from()
                + " -> " + d.to() + " shards); its first primary is elected next, then the resharding starts");
    }

    private void startResharding(ControlLoop l, Step.StartResharding r, int n) {
        var state = l.state();
        var o = state.topology().ownership();
        if (r.shrink()) {
            long live;
            try {
                live = stats.liveDataBytes(o.shards().stream().map(s -> state.topology().shard(s).orElseThrow()).toList());
            } catch (RuntimeException e) {
                log("scaling " + o.shards().size() + " -> " + n + " shards waits: " + e.getMessage());
                return;
            }
            var refused = Capacity.checkScaleIn(o.shards().size(), n, live, storageSize);
            refusalCheckedAt = System.nanoTime();
            refusalCheckedSize = storageSize;
            if (refused.isPresent()) {
                refusal = refused.get();
                note(true, "ScaleInRefused", refused.get().message());
                onChange.run();
                return;
            }
            LOG.infof("%s/%s: %d bytes of live data fit in %d shards of %s", layout.namespace(), layout.name(), live, n,
                    storageSize);
        }
        l.reshard(r.ring());
        onChange.run();
    }

    /** A refused scale-in is checked again every 10 s, and at once when storage.size changed. */
    private void recheckRefusal(ControlLoop l, int n) {
        var ref = refusal;
        if (ref == null) return;
        if (ref.shards() != n) {
            refusal = null;
            return;
        }
        boolean stale = System.nanoTime() - refusalCheckedAt > TimeUnit.MILLISECONDS.toNanos(
                RECHECK_REFUSAL_MS) || !storageSize.equals(refusalCheckedSize);
        if (!stale) return;
        var state = l.state();
        var o = state.topology().ownership();
        if (o.resharding()) return;
        try {
            long live = stats.liveDataBytes(o.shards().stream().map(s -> state.topology().shard(s).orElseThrow()).toList());
            refusalCheckedAt = System.nanoTime();
            refusalCheckedSize = storageSize;
            var again = Capacity.checkScaleIn(o.shards().size(), n, live, storageSize);
            if (again.isEmpty()) {
                LOG.infof("%s/%s: the data now fits in %d shards: the scale-in proceeds", layout.namespace(),
                        layout.name(), n);
            }
            refusal = again.orElse(null);
        } catch (RuntimeException e) {
            log("cannot check the data size again: " + e.getMessage());
        }
    }

    /** An Event (once per distinct message) and a log line. */
    private void note(boolean warning, String reason, String message) {
        if (message.equals(lastNote)) return;
        lastNote = message;
        if (warning) {
            LOG.warnf("%s/%s: %s", layout.namespace(), layout.name(), message);
            events.warning(reason, message);
        } else {
            LOG.infof("%s/%s: %s", layout.namespace(), layout.name(), message);
            events.normal(reason, message);
        }
    }

    /** A log line, once per distinct message. */
    private void log(String message) {
        if (message.equals(lastNote)) return;
        lastNote = message;
        LOG.infof("%s/%s: %s", layout.namespace(), layout.name(), message);
    }

    @Override
    public void close() {
        stats.close();
    }
}
