package io.limedb.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.limedb.core.failover.MemberReport;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.operator.crd.LimeClusterStatus;
import io.limedb.operator.crd.LimeClusterStatus.ShardStatus;
import io.limedb.operator.scaling.ShardScaling;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The status of a LimeCluster, computed from what the operator observed; pure. It never reports
 * Ready for a generation it has not reconciled, nor while a shard does not take writes (no serving
 * primary, or under sync replication fewer replicas in sync than min-in-sync needs). During a
 * change of spec.shards it stays Ready while every shard serves (phase Resharding, Progressing=True
 * with the ranges moved, keys and bytes), and reports a refused change as not Ready with its reason.
 */
public final class ClusterStatusCalculator {
    public static final String READY = "Ready";
    public static final String AVAILABLE = "Available";
    public static final String PROGRESSING = "Progressing";
    public static final String DEGRADED = "Degraded";

    /**
     * One shard as observed: its published state, whether it takes writes (the control loop's
     * takesWrites: its primary serves with enough replicas in sync), ready pods, members' reports.
     */
    public record ShardObservation(ShardInfo shard, boolean takesWrites, int readyPods,
            Map<String, MemberReport> reports) {}

    /**
     * Everything the status is computed from.
     *
     * @param generation         metadata.generation of the resource
     * @param reconciled         whether this reconcile applied that generation's desired state
     * @param desiredShards      spec.shards
     * @param desiredReplicas    spec.replicasPerShard
     * @param topology           the published topology, or null before the operator wrote one
     * @param shards             per shard of the topology, in order
     * @param coordinatorsReady  coordinator pods ready
     * @param coordinatorsWanted spec.coordinator.replicas
     * @param coordinatorEndpoint host:port of the coordinator Service's RESP port
     * @param paused             the pause annotation is set
     * @param problem            why reconciliation cannot proceed ("" when it can), e.g. a refused change
     * @param scaling            the change of spec.shards under way, settled or refused; null when unknown
     */
    public record Observation(long generation, boolean reconciled, int desiredShards, int desiredReplicas,
            Topology topology, List<ShardObservation> shards, int coordinatorsReady, int coordinatorsWanted,
            String coordinatorEndpoint, boolean paused, String problem, ShardScaling.Decision scaling) {

        public Observation(long generation, boolean reconciled, int desiredShards, int desiredReplicas,
                Topology topology, List<ShardObservation> shards, int coordinatorsReady, int coordinatorsWanted,
                String coordinatorEndpoint, boolean paused, String problem) {
            this(generation, reconciled, desiredShards, desiredReplicas, topology, shards, coordinatorsReady,
                    coordinatorsWanted, coordinatorEndpoint, paused, problem, null);
        }
    }

    private ClusterStatusCalculator() {}

    /** The new status; conditions keep their lastTransitionTime when their status did not change. */
    public static LimeClusterStatus compute(Observation o, LimeClusterStatus previous, Instant now) {
        var st = new LimeClusterStatus();
        var scaling = o.scaling();
        st.coordinatorEndpoint = o.coordinatorEndpoint();
        st.currentShards = o.topology() == null ? 0 : o.topology().shards().size();
        st.ringVersion = o.topology() == null ? null : o.topology().version();
        // A shard counts for Ready, Available and Degraded once it is in the ring or has had a primary: a shard
        // that is joining the topology (its first election) serves no key yet.
        var ring = o.topology() == null ? Set.<String>of() : Set.copyOf(o.topology().ownership().shards());
        int ready = 0;
        int counted = 0;
        int countedReady = 0;
        int withPrimary = 0;
        for (var s : o.shards()) {
            var info = s.shard();
            boolean hasPrimary = info.epoch() > 0 && s.takesWrites();
            boolean shardReady = hasPrimary && s.readyPods() >= info.members().size()
                    && info.members().size() >= o.desiredReplicas();
            if (shardReady) ready++;
            if (info.epoch() > 0 || ring.contains(info.id())) {
                counted++;
                if (hasPrimary) withPrimary++;
                if (shardReady) countedReady++;
            }
            long maxLag = 0;
            for (var r : s.reports().values()) {
                if (r.role() == Role.REPLICA) maxLag = Math.max(maxLag, r.lagRecords());
            }
            st.shards.add(new ShardStatus(info.id(), info.epoch() > 0 ? info.primary().id() : "", info.epoch(),
                    s.readyPods(), maxLag));
        }
        st.readyShards = ready;
        st.ready = ready + "/" + (scaling != null ? scaling.shardObjects().size() : o.desiredShards());
        boolean allPrimaries = counted > 0 && withPrimary == counted;
        boolean coordinatorsUp = o.coordinatorsReady() > 0 || o.coordinatorsWanted() == 0;
        // Without a scaling decision the topology must have exactly spec.shards' shards.
        boolean shardsAsWanted = scaling != null || o.shards().size() == o.desiredShards();
        boolean allReady = o.reconciled() && o.problem().isEmpty() && !o.paused() && shardsAsWanted
                && countedReady == counted && o.coordinatorsReady() >= o.coordinatorsWanted() && allPrimaries;
        boolean scalingNow = scaling != null && scaling.inProgress();

        var conds = new ArrayList<Condition>();
        if (o.paused()) {
            conds.add(cond(READY, false, "Paused", "reconciliation is paused by the limedb.io/paused annotation",
                    o, previous, now));
            conds.add(cond(PROGRESSING, false, "Paused", "remove the limedb.io/paused annotation to resume",
                    o, previous, now));
        } else if (allReady) {
            conds.add(cond(READY, true, "AllShardsReady", countedReady + " of " + counted + " shards take writes (a serving "
                    + "primary with the replicas in sync a write needs) with all members ready; " + o.coordinatorsReady() + " coordinator(s) ready",
                    o, previous, now));
            conds.add(scalingNow ? cond(PROGRESSING, true, "Resharding", scaling.message(), o, previous, now)
                    : cond(PROGRESSING, false, "Reconciled", "generation " + o.generation() + " is applied",
                            o, previous, now));
        } else {
            String why = !o.problem().isEmpty() ? o.problem()
                    : !o.reconciled() ? "generation " + o.generation() + " is not applied yet"
                    : o.topology() == null ? "creating the cluster"
                    : !shardsAsWanted ? "the topology has " + o.shards().size() + " shards, spec.shards is "
                            + o.desiredShards()
                    : withPrimary < counted ? (counted - withPrimary) + " shard(s) not taking writes (no serving primary, or too few replicas in sync)"
                    : countedReady < counted ? (counted - countedReady) + " shard(s) with members not ready"
                    : "waiting for coordinators (" + o.coordinatorsReady() + "/" + o.coordinatorsWanted() + " ready)";
            String reason = o.problem().isEmpty() ? "NotReady"
                    : scaling != null && scaling.step() instanceof ShardScaling.Step.Refused r ? r.reason()
                    : "InvalidSpec";
            conds.add(cond(READY, false, reason, why, o, previous, now));
            if (!o.problem().isEmpty()) {
                conds.add(cond(PROGRESSING, false, "Blocked", why, o, previous, now));
            } else if (scalingNow) {
                conds.add(cond(PROGRESSING, true, "Resharding", scaling.message() + " (" + why + ")", o, previous, now));
            } else {
                conds.add(cond(PROGRESSING, true, "Reconciling", why, o, previous, now));
            }
        }
        boolean available = allPrimaries && coordinatorsUp;
        conds.add(cond(AVAILABLE, available, available ? "Serving" : "NotServing", available
                ? "every shard takes writes and a coordinator is ready"
                : "not every shard takes writes (no serving primary, or too few replicas in sync), or no coordinator is ready", o, previous, now));
        boolean degraded = o.topology() != null && o.topology().shards().stream().anyMatch(s -> s.epoch() > 0)
                && (withPrimary < counted || countedReady < counted);
        conds.add(cond(DEGRADED, degraded, degraded ? "MembersDown" : "AsExpected", degraded
                ? (counted - withPrimary) + " shard(s) not taking writes, " + (counted - countedReady)
                        + " shard(s) not fully ready"
                : "no shard is missing a member", o, previous, now));
        st.conditions = conds;
        st.phase = o.paused() ? "Paused"
                : !o.problem().isEmpty() ? "Failed"
                : allReady ? (scalingNow ? "Resharding" : "Running")
                : o.topology() == null || o.topology().shards().stream().allMatch(s -> s.epoch() == 0) ? "Creating"
                : "Degraded";
        st.resharding = scaling == null || o.paused() || !(scalingNow || scaling.step() instanceof ShardScaling.Step.Refused)
                ? null : resharding(scaling);
        Long kept = previous == null ? null : previous.observedGeneration;
        st.observedGeneration = o.reconciled() ? Long.valueOf(o.generation()) : kept;
        return st;
    }

    private static LimeClusterStatus.ReshardingStatus resharding(ShardScaling.Decision d) {
        var r = new LimeClusterStatus.ReshardingStatus();
        r.from = d.from();
        r.to = d.to();
        r.step = d.stepName();
        var p = d.progress();
        if (p != null) {
            r.rangesMoved = p.movedRanges();
            r.rangesTotal = p.totalRanges();
            r.keys = p.keys();
            r.bytes = p.bytes();
        }
        r.queuedShards = d.queued();
        r.summary = d.summary();
        return r;
    }

    private static Condition cond(String type, boolean status, String reason, String message, Observation o,
            LimeClusterStatus previous, Instant now) {
        String s = status ? "True" : "False";
        String since = now.toString();
        if (previous != null && previous.conditions != null) {
            for (var c : previous.conditions) {
                if (type.equals(c.getType()) && s.equals(c.getStatus()) && c.getLastTransitionTime() != null) {
                    since = c.getLastTransitionTime();
                }
            }
        }
        return new ConditionBuilder().withType(type).withStatus(s).withReason(reason).withMessage(message)
                .withObservedGeneration(o.generation()).withLastTransitionTime(Objects.requireNonNull(since)).build();
    }
}
