package io.limedb.operator.control;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.limedb.api.members.GrpcMembers;
import io.limedb.api.members.GrpcRanges;
import io.limedb.core.control.ControlEvent;
import io.limedb.core.control.ControlLoop;
import io.limedb.core.control.TickThread;
import io.limedb.core.failover.MemberReport;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.operator.scaling.ShardScaling;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Keeps one LimeCluster's shards with exactly one primary: a thread that ticks the core
 * {@link ControlLoop} against the shard pods over gRPC ({@link GrpcMembers}) and the topology
 * ConfigMap ({@link ConfigMapTopologyStore}). It watches the shard pods: a member whose pod is being
 * deleted or is gone is departing, so a deleted primary is switched over at once instead of after
 * {@code failureTimeoutMs}. It also brings each shard's membership to {@code replicasPerShard}: new
 * members join as replicas; a removed member leaves the topology only once it is not the primary. And
 * after each tick its {@link ShardScaler} takes a step towards {@code spec.shards}.
 */
public final class ClusterSupervisor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ClusterSupervisor.class);

    /** What the loop is told by the LimeCluster's spec; a change makes a new loop. */
    public record Settings(ControlLoop.Settings loop, int replicasPerShard, long tickMs) {}

    private final ClusterLayout layout;
    private final ConfigMapTopologyStore store;
    private final Consumer<ControlEvent> events;
    private final SharedIndexInformer<Pod> pods;
    private final GrpcMembers members;
    private final GrpcRanges ranges = new GrpcRanges(new Addresses());
    private final ShardScaler scaler;
    private final TickThread thread;
    private volatile Settings settings;
    private volatile ControlLoop loop;
    private volatile boolean paused;
    private volatile Topology topology;
    private final Runnable onChange;
    private final java.util.function.BooleanSupplier mayAct;
    private String lastSeen = "";
    private Set<String> knownAddresses = Set.of();
    private String lastMembershipWait = "";
    /** Members to switch away from before they leave the topology (a shrinking shard's primary). */
    private final Set<String> extraDeparting = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public ClusterSupervisor(KubernetesClient client, ClusterLayout layout, ConfigMapTopologyStore store,
            Settings settings, Consumer<ControlEvent> events, ClusterEvents clusterEvents, Runnable onChange,
            java.util.function.BooleanSupplier mayAct) {
        this.onChange = onChange;
        this.mayAct = mayAct;
        this.layout = layout;
        this.store = store;
        this.settings = settings;
        this.events = events;
        this.pods = client.pods().inNamespace(layout.namespace())
                .withLabel("app.kubernetes.io/instance", layout.name())
                .withLabel("app.kubernetes.io/component", "shard").inform();
        this.members = new GrpcMembers(new Addresses());
        this.scaler = new ShardScaler(layout, store, pods, clusterEvents, onChange,
                () -> this.settings.replicasPerShard(), this::retire);
        this.loop = newLoop(settings);
        this.thread = new TickThread("supervisor-" + layout.namespace() + "-" + layout.name(), settings.tickMs(),
                this::step, error -> {
                    if (error.isEmpty()) LOG.infof("%s/%s: the control loop works again", layout.namespace(), layout.name());
                    else LOG.warnf("%s/%s: control loop: %s", layout.namespace(), layout.name(), error);
                });
        this.thread.start();
    }

    private ControlLoop newLoop(Settings s) {
        return new ControlLoop(members, ranges, store, s.loop(), System::nanoTime, events);
    }

    /** Applies a changed spec: a new loop (what the old one remembered only timed its decisions). */
    public void update(Settings next, boolean pause) {
        this.paused = pause;
        if (!next.equals(settings)) {
            settings = next;
            loop = newLoop(next);
        }
    }

    /** Stops (or resumes) acting: a paused cluster is neither failed over nor resized. */
    public void pause(boolean pause) {
        this.paused = pause;
    }

    /**
     * Sets spec.shards (and storage.size, which bounds a scale-in) and decides, from the store's state
     * now, what changing it takes: which shards must keep or get their objects, and what status shows.
     */
    public ShardScaling.Decision target(int shards, String size) {
        return scaler.target(loop, shards, size);
    }

    /** The resharding's ranges moved and in all (0 and 0 when none runs), for metrics. */
    public int[] reshardingRanges() {
        var st = loop.state();
        var r = st == null ? null : st.resharding();
        return r == null ? new int[] {0, 0} : new int[] {r.movedRanges(), r.totalRanges()};
    }

    /** The topology last read or written; null before the first tick. */
    public Topology topology() {
        return topology;
    }

    public boolean healthy(String shardId) {
        return loop.healthy(shardId);
    }

    /** Whether the shard takes writes: what its status may call ready (ControlLoop.takesWrites). */
    public boolean takesWrites(String shardId) {
        return loop.takesWrites(shardId);
    }

    public Map<String, MemberReport> reports(String shardId) {
        return loop.lastReports(shardId);
    }

    /** Members of the published topology per shard (the StatefulSet must keep at least these pods). */
    public int topologyMembers(int shard) {
        var t = topology;
        if (t == null) return 0;
        return t.shard(io.limedb.operator.model.Names.shardId(shard)).map(s -> s.members().size()).orElse(0);
    }

    private void step() {
        if (paused || !mayAct.getAsBoolean()) return;
        var departing = departing();
        departing.addAll(extraDeparting);
        var l = loop;
        l.tick(departing);
        topology = l.state().topology();
        reconcileMembership();
        scaler.step(l);
        topology = l.state().topology();
        forgetRemovedMembers(topology);
        String seen = seen(l);
        if (!seen.equals(lastSeen)) {
            lastSeen = seen;
            onChange.run();
        }
    }

    /**
     * Fences the members of a shard about to leave the topology (it owns no range any more) one epoch up, so
     * that its primary steps down: its pods' pre-stop hook then returns at once instead of holding each
     * deletion for up to 20 s waiting for a switchover that will never come. Best effort.
     */
    private void retire(ShardInfo shard) {
        for (Member m : shard.members()) {
            try {
                members.fence(m.id(), shard.epoch() + 1);
            } catch (io.limedb.core.control.MemberCallException e) {
                LOG.debugf("%s/%s: %s: fencing %s before removal: %s", layout.namespace(), layout.name(), shard.id(),
                        m.id(), e.getMessage());
            }
        }
    }

    /**
     * Closes the gRPC channels of members that left the topology (a removed shard): if a shard of the same
     * name comes back, its pods have new IPs, and an old channel would go on connecting to the old ones.
     */
    private void forgetRemovedMembers(Topology t) {
        var addresses = new HashSet<String>();
        for (ShardInfo s : t.shards()) for (Member m : s.members()) addresses.add(m.address());
        if (addresses.equals(knownAddresses)) return;
        knownAddresses = addresses;
        members.retain(addresses);
        ranges.retain(addresses);
    }

    /** What the status shows of this loop: a change makes the reconciler report it at once. */
    private String seen(ControlLoop l) {
        var sb = new StringBuilder().append(l.state().topology().version()).append(l.state().intents().keySet());
        for (ShardInfo s : l.state().topology().shards()) {
            sb.append(s.id()).append(l.healthy(s.id()) ? '+' : '-').append(l.takesWrites(s.id()) ? 'w' : '.');
        }
        var r = l.state().resharding();
        if (r != null) sb.append(r.movedRanges()).append('/').append(r.keys());
        var d = scaler.lastDecision();
        if (d != null) sb.append(d.step());
        return sb.toString();
    }

    /**
     * Members of the topology whose process is going or gone: the pod is being deleted, does not
     * exist, or its node container is not running (a pod recreated after a forced delete, a
     * container restarting after a crash). Such a member cannot be serving as primary, so there is
     * nothing to wait for.
     */
    private Set<String> departing() {
        var t = topology != null ? topology : store.read().state().topology();
        var present = new java.util.HashMap<String, Pod>();
        for (Pod p : pods.getStore().list()) present.put(p.getMetadata().getName(), p);
        var out = new HashSet<String>();
        for (ShardInfo s : t.shards()) {
            for (Member m : s.members()) {
                var pod = present.get(m.id());
                if (pod == null || pod.getMetadata().getDeletionTimestamp() != null || !nodeRunning(pod)) {
                    out.add(m.id());
                }
            }
        }
        return out;
    }

    private static boolean nodeRunning(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) return false;
        return pod.getStatus().getContainerStatuses().stream()
                .anyMatch(c -> io.limedb.operator.model.Names.NODE_CONTAINER.equals(c.getName()) && c.getState() != null
                        && c.getState().getRunning() != null);
    }


    /**
     * Grows or shrinks each shard's membership in the topology to replicasPerShard, one shard per tick,
     * never during a failover: added members join as replicas (the loop tells them to follow); a
     * member to remove that is the primary is made departing first, so the loop switches over.
     */
    private void reconcileMembership() {
        extraDeparting.clear();
        var v = store.read();
        var state = v.state();
        int want = settings.replicasPerShard();
        for (ShardInfo s : state.topology().shards()) {
            if (state.intent(s.id()).isPresent() || s.epoch() == 0) continue;
            int have = s.members().size();
            if (have == want) continue;
            int index = io.limedb.operator.model.Names.shardIndex(s.id());
            List<Member> next = new ArrayList<>();
            if (want > have) {
                next.addAll(s.members());
                next.addAll(layout.members(index, want).subList(have, want));
            } else {
                var keep = layout.members(index, want).stream().map(Member::id).collect(java.util.stream.Collectors.toSet());
                if (!keep.contains(s.primary().id())) {
                    extraDeparting.add(s.primary().id());
                    continue;
                }
                // Only once the staying replicas alone keep writes going: enough of them follow the
                // primary, caught up (a member still restarting would otherwise leave too few).
                var reports = loop.lastReports(s.id());
                long inSync = keep.stream().filter(id -> !id.equals(s.primary().id())).map(reports::get)
                        .filter(r -> r != null && r.followsAt(s.primary().id(), s.epoch()) && r.caughtUp()).count();
                int needed = settings.loop().policy().minInSync() - 1;
                if (inSync < needed) {
                    String why = s.id() + ": waiting to remove members until " + needed + " staying replica(s) follow "
                            + s.primary().id() + " caught up (" + inSync + " do)";
                    if (!why.equals(lastMembershipWait)) LOG.infof("%s/%s: %s", layout.namespace(), layout.name(), why);
                    lastMembershipWait = why;
                    continue;
                }
                for (Member m : s.members()) if (keep.contains(m.id())) next.add(m);
            }
            var shard = new ShardInfo(s.id(), s.epoch(), next.stream()
                    .map(m -> new Member(m.id(), m.address(), m.id().equals(s.primary().id()) ? Role.PRIMARY : Role.REPLICA))
                    .toList());
            if (store.compareAndSet(v.version(), state.publish(shard))) {
                LOG.infof("%s/%s: %s now has %d members (was %d)", layout.namespace(), layout.name(), s.id(),
                        next.size(), have);
                topology = store.read().state().topology();
            }
            return;
        }
    }


    @Override
    public void close() {
        thread.close();
        pods.close();
        members.close();
        ranges.close();
        scaler.close();
    }

    /** Members are reached at their address in the topology (the headless Service's DNS name). */
    private final class Addresses implements GrpcMembers.Addresses {
        private Member member(String id) {
            var t = Objects.requireNonNullElseGet(topology, () -> store.read().state().topology());
            var found = find(t, id);
            if (found == null && loop.state() != null) found = find(loop.state().topology(), id); // a shard just added
            if (found == null) found = find(store.read().state().topology(), id);
            if (found == null) throw new IllegalArgumentException("no member " + id + " in the topology");
            return found;
        }

        private static Member find(Topology t, String id) {
            for (ShardInfo s : t.shards()) {
                var m = s.member(id);
                if (m.isPresent()) return m.get();
            }
            return null;
        }

        @Override
        public String controllerAddress(String memberId) {
            return member(memberId).address();
        }

        @Override
        public String peerAddress(String fromId, String toId) {
            return member(toId).address();
        }

        @Override
        public String memberAt(String fromId, String address) {
            var t = topology;
            if (t == null) return "";
            for (ShardInfo s : t.shards()) {
                for (Member m : s.members()) if (m.address().equals(address)) return m.id();
            }
            return "";
        }
    }
}
