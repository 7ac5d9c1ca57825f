package io.limedb.operator.scaling;

import io.limedb.core.control.ClusterState;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.topology.ShardInfo;
import io.limedb.operator.model.Names;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * The next step of changing a running cluster's {@code spec.shards}, decided from the topology store's
 * state and what the operator observed; pure. The core's control loop moves the data
 * ({@code ControlLoop.reshard}); this only decides what the operator does around it: the new shards'
 * objects first, each new shard into the topology once its pods are ready, the resharding once every
 * shard of the new ring has a primary, the emptied shards out of the topology once it is done, and
 * only then their objects gone. A change while a resharding runs waits for it, except a change back
 * to the ring it moves from, which rolls it back. The ring of {@code N} shards is always shard-0 ..
 * shard-(N-1).
 */
public final class ShardScaling {
    /** Moving data needs a replication log to catch up from, which replicasPerShard 1 does not keep. */
    public static final int MIN_REPLICAS = 2;

    private ShardScaling() {}

    /**
     * @param state            the topology store's state (topology, ring, resharding in progress)
     * @param desiredShards    spec.shards
     * @param replicasPerShard spec.replicasPerShard
     * @param serving          shards whose primary serves at the topology's epoch; a new shard once it takes
     *                         writes (its primary waited out the read lease and has the replicas in sync it needs)
     * @param readyPods        per shard id, its pods that are ready and not being deleted
     * @param podProblems      per shard id, why one of its pods is not ready (unschedulable, crashing), if known
     * @param refusal          the last capacity check's refusal, or null
     */
    public record Input(ClusterState state, int desiredShards, int replicasPerShard, Set<String> serving,
            Map<String, Integer> readyPods, Map<String, String> podProblems, Refusal refusal) {
        public Input {
            Objects.requireNonNull(state, "state");
            serving = Set.copyOf(serving);
            readyPods = Map.copyOf(readyPods);
            podProblems = Map.copyOf(podProblems);
        }

        public Input(ClusterState state, int desiredShards, int replicasPerShard, Set<String> serving,
                Map<String, Integer> readyPods, Refusal refusal) {
            this(state, desiredShards, replicasPerShard, serving, readyPods, Map.of(), refusal);
        }
    }

    /** A scale-in to {@code shards} that the data does not fit in, with the message that says so. */
    public record Refusal(int shards, String message) {}

    /** What the operator does next. */
    public sealed interface Step {
        /** The ring is spec.shards' and no other shard is in the topology. */
        record Settled() implements Step {}

        /** A new shard's StatefulSet exists; its pods are not all ready yet ({@code problem}: why, or ""). */
        record WaitForPods(String shard, int ready, int wanted, String problem) implements Step {}

        /** A new shard's pods are ready: it joins the topology (outside the ring; the loop elects its primary). */
        record AddShard(String shard) implements Step {}

        /** Shards of the new ring without a serving primary yet (a new shard's first election). */
        record WaitForPrimaries(List<String> shards) implements Step {}

        /** Every shard of the new ring serves: the resharding starts (a scale-in once the data fits). */
        record StartResharding(List<String> ring, boolean shrink) implements Step {}

        /** A resharding to spec.shards' ring runs; the control loop carries it. */
        record Moving() implements Step {}

        /** A resharding to another ring runs: spec.shards waits until it is done. */
        record Queued(int desired) implements Step {}

        /**
         * spec.shards is back to the ring a running resharding moves from: it is rolled back (what moved
         * moves back; the core swaps the two rings, so the next decision is {@link Moving} the other way).
         */
        record RollBack(List<String> ring) implements Step {}

        /** The ring no longer holds these shards: they leave the topology, then their objects go. */
        record RemoveShards(List<String> shards) implements Step {}

        /** spec.shards cannot be applied; nothing is changed. */
        record Refused(String reason, String message) implements Step {}
    }

    /**
     * The decision: the step, the shards whose objects (StatefulSet, Service, PDB) must exist now (every
     * shard of the topology, and the new ones once the change is under way), and what status shows.
     *
     * @param from     shards in the ring in force (the topology's shards when removing the emptied ones)
     * @param to       shards being moved to: spec.shards, or the running resharding's while one is queued
     * @param progress the running resharding's moves, or null
     */
    public record Decision(Step step, int from, int to, SortedSet<Integer> shardObjects, Resharding progress) {
        public Decision {
            shardObjects = Collections.unmodifiableSortedSet(new TreeSet<>(shardObjects));
        }

        /** Whether a change of shards is under way (not settled, not refused). */
        public boolean inProgress() {
            return !(step instanceof Step.Settled) && !(step instanceof Step.Refused);
        }

        /** What the step is, in one word, for status: AddingShards, Moving, RemovingShards or Refused; "" settled. */
        public String stepName() {
            return switch (step) {
                case Step.Settled s -> "";
                case Step.WaitForPods s -> "AddingShards";
                case Step.AddShard s -> "AddingShards";
                case Step.WaitForPrimaries s -> "AddingShards";
                case Step.StartResharding s -> "Starting";
                case Step.Moving s -> "Moving";
                case Step.Queued s -> "Moving";
                case Step.RollBack s -> "RollingBack";
                case Step.RemoveShards s -> "RemovingShards";
                case Step.Refused s -> "Refused";
            };
        }

        /** The queued spec.shards, or null. */
        public Integer queued() {
            return step instanceof Step.Queued q ? q.desired() : null;
        }

        /** For {@code kubectl get}: "3->4 120/216", "3->4 adding", "4->2 removing"; null when settled. */
        public String summary() {
            String arrow = from + "->" + to;
            return switch (step) {
                case Step.Settled s -> null;
                case Step.WaitForPods s -> arrow + " adding";
                case Step.AddShard s -> arrow + " adding";
                case Step.WaitForPrimaries s -> arrow + " adding";
                case Step.StartResharding s -> arrow + " starting";
                case Step.Moving s -> arrow + " " + moved();
                case Step.Queued q -> arrow + " " + moved() + ", then " + q.desired();
                case Step.RollBack r -> arrow + " rolling back";
                case Step.RemoveShards s -> arrow + " removing";
                case Step.Refused s -> arrow + " refused";
            };
        }

        private String moved() {
            return progress == null ? "0/0" : progress.movedRanges() + "/" + progress.totalRanges();
        }

        /** What is happening, in a sentence (the Progressing condition's message). */
        public String message() {
            String scaling = "scaling " + from + " -> " + to + " shards: ";
            return switch (step) {
                case Step.Settled s -> "";
                case Step.WaitForPods w -> scaling + "waiting for the pods of " + w.shard() + " to be ready (" + w.ready()
                        + "/" + w.wanted() + ")" + (w.problem().isEmpty() ? "" : ": " + w.problem());
                case Step.AddShard a -> scaling + "adding " + a.shard() + " to the topology";
                case Step.WaitForPrimaries w -> scaling + "waiting for a serving primary in " + String.join(", ", w.shards());
                case Step.StartResharding r -> scaling + (r.shrink() ? "checking that the data fits in " + to
                        + " shards, then starting the resharding" : "starting the resharding");
                case Step.Moving m -> movingMessage();
                case Step.Queued q -> movingMessage() + "; spec.shards " + q.desired()
                        + " is queued: it is applied once this resharding is done";
                case Step.RollBack r -> movingMessage() + "; spec.shards is back to " + r.ring().size()
                        + ": rolling it back (what moved moves back)";
                case Step.RemoveShards r -> scaling + "the resharding is done; removing " + String.join(", ", r.shards())
                        + " from the topology, then their StatefulSets";
                case Step.Refused r -> r.message();
            };
        }

        private String movingMessage() {
            var p = progress;
            return "resharding " + from + " -> " + to + " shards: " + (p == null ? "0 of 0 ranges moved, 0 keys, 0 bytes"
                    : p.movedRanges() + " of " + p.totalRanges() + " ranges moved, " + p.keys() + " keys, " + p.bytes()
                    + " bytes");
        }
    }

    /** The ids of the ring of {@code n} shards: shard-0 .. shard-(n-1). */
    public static List<String> ring(int n) {
        return IntStream.range(0, n).mapToObj(Names::shardId).toList();
    }

    /** The objects a cluster without a topology yet starts with: spec.shards' shards. */
    public static SortedSet<Integer> initialObjects(int desiredShards) {
        return indices(ring(desiredShards));
    }

    public static Decision decide(Input in) {
        var topology = in.state().topology();
        var o = topology.ownership();
        var target = ring(in.desiredShards());
        var inTopology = topology.shards().stream().map(ShardInfo::id).toList();
        var withTarget = new LinkedHashSet<>(inTopology);
        withTarget.addAll(target);
        int from = o.shards().size();
        int to = target.size();

        // Shards in no ring and not wanted (added, then spec.shards lowered before they got any range).
        var stray = new ArrayList<String>();
        for (String s : inTopology) if (!o.allShards().contains(s) && !target.contains(s)) stray.add(s);

        if (o.resharding()) {
            var progress = in.state().resharding();
            if (!stray.isEmpty()) {
                return new Decision(new Step.RemoveShards(stray), from, o.next().size(), indices(inTopology), progress);
            }
            if (o.next().equals(target)) {
                return new Decision(new Step.Moving(), from, to, indices(inTopology), progress);
            }
            if (o.shards().equals(target)) {
                return new Decision(new Step.RollBack(target), from, o.next().size(), indices(inTopology), progress);
            }
            return new Decision(new Step.Queued(in.desiredShards()), from, o.next().size(), indices(inTopology), progress);
        }
        if (o.shards().equals(target)) {
            var extra = inTopology.stream().filter(s -> !target.contains(s)).toList();
            if (extra.isEmpty()) return new Decision(new Step.Settled(), from, to, indices(target), null);
            return new Decision(new Step.RemoveShards(extra), inTopology.size(), to, indices(inTopology), null);
        }
        if (!stray.isEmpty()) return new Decision(new Step.RemoveShards(stray), from, to, indices(inTopology), null);
        if (in.replicasPerShard() < MIN_REPLICAS) {
            return new Decision(new Step.Refused("ReshardingNeedsReplicas", "spec.shards " + from + " -> " + to
                    + " refused: moving data between shards needs replicated shards (a log to catch up from), and "
                    + "replicasPerShard is " + in.replicasPerShard() + "; set replicasPerShard to at least " + MIN_REPLICAS
                    + " first, or set spec.shards back to " + from), from, to, indices(inTopology), null);
        }
        if (in.refusal() != null && in.refusal().shards() == in.desiredShards()) {
            return new Decision(new Step.Refused("ScaleInRefused", in.refusal().message()), from, to,
                    indices(inTopology), null);
        }
        var objects = indices(withTarget);
        for (String s : target) {
            if (inTopology.contains(s)) continue;
            int ready = in.readyPods().getOrDefault(s, 0);
            Step step = ready >= in.replicasPerShard() ? new Step.AddShard(s)
                    : new Step.WaitForPods(s, ready, in.replicasPerShard(), in.podProblems().getOrDefault(s, ""));
            return new Decision(step, from, to, objects, null);
        }
        var noPrimary = target.stream().filter(s -> !in.serving().contains(s)).toList();
        if (!noPrimary.isEmpty()) return new Decision(new Step.WaitForPrimaries(noPrimary), from, to, objects, null);
        return new Decision(new Step.StartResharding(target, to < from), from, to, objects, null);
    }

    private static SortedSet<Integer> indices(Iterable<String> shardIds) {
        var out = new TreeSet<Integer>();
        for (String s : shardIds) out.add(Names.shardIndex(s));
        return out;
    }
}
