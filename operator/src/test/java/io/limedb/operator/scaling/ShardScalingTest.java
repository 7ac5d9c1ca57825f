package io.limedb.operator.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.control.ClusterState;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.operator.scaling.ShardScaling.Decision;
import io.limedb.operator.scaling.ShardScaling.Input;
import io.limedb.operator.scaling.ShardScaling.Refusal;
import io.limedb.operator.scaling.ShardScaling.Step;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShardScalingTest {
    private static final int VNODES = 16;

    private static ShardInfo shard(int i, long epoch) {
        var ms = new ArrayList<Member>();
        for (int j = 0; j < 3; j++) {
            ms.add(new Member("c-shard-" + i + "-" + j, "h" + i + j + ":9090", j == 0 ? Role.PRIMARY : Role.REPLICA));
        }
        return new ShardInfo("shard-" + i, epoch, ms);
    }

    /** A settled ring of shard-0..shard-(ring-1), and {@code extra} more shards in the topology outside it. */
    private static ClusterState settled(int ring, int extra) {
        var shards = new ArrayList<ShardInfo>();
        for (int i = 0; i < ring + extra; i++) shards.add(shard(i, i < ring ? 1 : 0));
        var t = new Topology(5, VNODES, shards.subList(0, ring));
        for (ShardInfo s : shards.subList(ring, ring + extra)) t = t.withShard(s);
        return ClusterState.of(t);
    }

    /** A resharding from the settled ring of {@code from} to that of {@code to} shards, the first move flipped. */
    private static ClusterState resharding(int from, int to) {
        var base = settled(from, Math.max(0, to - from)).topology();
        var o = base.ownership().begin(ShardScaling.ring(to));
        var plan = ReshardPlan.between(o.shards(), o.next(), VNODES);
        var progress = Resharding.start(plan);
        Pair first = progress.moves().keySet().iterator().next();
        progress = progress.with(first, progress.moves().get(first).copied(1000, 50_000).with(Resharding.Phase.FLIPPED));
        return new ClusterState(base.withOwnership(o.flip(first)), Map.of(), progress);
    }

    private static Set<String> all(ClusterState s) {
        var out = new HashSet<String>();
        s.topology().shards().forEach(x -> out.add(x.id()));
        return out;
    }

    private static Decision decide(ClusterState s, int desired, Map<String, Integer> readyPods, Set<String> serving) {
        return ShardScaling.decide(new Input(s, desired, 3, serving, readyPods, null));
    }

    @Test
    void aRingThatIsSpecShardsIsSettledAndKeepsExactlyItsShardsObjects() {
        var s = settled(3, 0);
        var d = decide(s, 3, Map.of(), all(s));
        assertThat(d.step()).isInstanceOf(Step.Settled.class);
        assertThat(d.inProgress()).isFalse();
        assertThat(d.shardObjects()).containsExactly(0, 1, 2);
        assertThat(d.summary()).isNull();
    }

    @Test
    void scaleOutCreatesTheNewShardsObjectsFirstAndWaitsForItsPods() {
        var s = settled(3, 0);
        var d = decide(s, 4, Map.of("shard-3", 1), all(s));
        assertThat(d.step()).isEqualTo(new Step.WaitForPods("shard-3", 1, 3, ""));
        assertThat(d.shardObjects()).containsExactly(0, 1, 2, 3);
        assertThat(d.summary()).isEqualTo("3->4 adding");
        assertThat(d.message()).contains("waiting for the pods of shard-3 to be ready (1/3)");
        assertThat(d.inProgress()).isTrue();
        var stuck = ShardScaling.decide(new Input(s, 4, 3, all(s), Map.of("shard-3", 1),
                Map.of("shard-3", "c-shard-3-1 unschedulable: 0/1 nodes are available: 1 Insufficient cpu"), null));
        assertThat(stuck.message()).endsWith("(1/3): c-shard-3-1 unschedulable: 0/1 nodes are available: 1 Insufficient cpu");
    }

    @Test
    void aNewShardWhosePodsAreReadyJoinsTheTopologyThenGetsAPrimaryThenTheReshardingStarts() {
        var s = settled(3, 0);
        assertThat(decide(s, 4, Map.of("shard-3", 3), all(s)).step()).isEqualTo(new Step.AddShard("shard-3"));
        var added = settled(3, 1);
        var serving = Set.of("shard-0", "shard-1", "shard-2");
        assertThat(decide(added, 4, Map.of("shard-3", 3), serving).step())
                .isEqualTo(new Step.WaitForPrimaries(List.of("shard-3")));
        var d = decide(added, 4, Map.of("shard-3", 3), all(added));
        assertThat(d.step()).isEqualTo(new Step.StartResharding(List.of("shard-0", "shard-1", "shard-2", "shard-3"), false));
        assertThat(d.shardObjects()).containsExactly(0, 1, 2, 3);
    }

    @Test
    void scaleOutByTwoAddsTheShardsOneAtATimeInOrder() {
        var s = settled(3, 0);
        var d = decide(s, 5, Map.of("shard-3", 3, "shard-4", 3), all(s));
        assertThat(d.step()).isEqualTo(new Step.AddShard("shard-3"));
        assertThat(d.shardObjects()).containsExactly(0, 1, 2, 3, 4);
        var one = settled(3, 1);
        assertThat(decide(one, 5, Map.of("shard-3", 3, "shard-4", 3), all(one)).step()).isEqualTo(new Step.AddShard("shard-4"));
    }

    @Test
    void whileTheReshardingRunsItReportsRangesKeysAndBytes() {
        var s = resharding(3, 4);
        var d = decide(s, 4, Map.of(), all(s));
        assertThat(d.step()).isInstanceOf(Step.Moving.class);
        var p = s.resharding();
        assertThat(d.progress()).isEqualTo(p);
        assertThat(p.movedRanges()).isPositive().isLessThan(p.totalRanges());
        assertThat(d.summary()).isEqualTo("3->4 " + p.movedRanges() + "/" + p.totalRanges());
        assertThat(d.message()).isEqualTo("resharding 3 -> 4 shards: " + p.movedRanges() + " of " + p.totalRanges()
                + " ranges moved, 1000 keys, 50000 bytes");
        assertThat(d.stepName()).isEqualTo("Moving");
        assertThat(d.shardObjects()).containsExactly(0, 1, 2, 3);
    }

    @Test
    void aChangeDuringAReshardingIsQueuedAndNothingOfItIsCreatedOrDeleted() {
        var s = resharding(3, 4);
        var d = decide(s, 6, Map.of(), all(s));
        assertThat(d.step()).isEqualTo(new Step.Queued(6));
        assertThat(d.queued()).isEqualTo(6);
        assertThat(d.shardObjects()).as("no objects for shard-4, shard-5 yet").containsExactly(0, 1, 2, 3);
        assertThat(d.to()).as("the running resharding's target").isEqualTo(4);
        assertThat(d.message()).contains("spec.shards 6 is queued: it is applied once this resharding is done");
        assertThat(d.summary()).endsWith(", then 6");
        var down = decide(s, 2, Map.of(), all(s));
        assertThat(down.step()).isEqualTo(new Step.Queued(2));
        assertThat(down.shardObjects()).as("shard-2 and shard-3 are in a ring: they keep their objects")
                .containsExactly(0, 1, 2, 3);
    }

    @Test
    void specShardsBackToTheRingBeingMovedFromRollsTheReshardingBack() {
        var s = resharding(3, 4);
        var d = decide(s, 3, Map.of(), all(s));
        assertThat(d.step()).isEqualTo(new Step.RollBack(List.of("shard-0", "shard-1", "shard-2")));
        assertThat(d.shardObjects()).as("shard-3 keeps its objects while ranges move back").containsExactly(0, 1, 2, 3);
        assertThat(d.summary()).isEqualTo("3->4 rolling back");
        assertThat(d.message()).contains("spec.shards is back to 3: rolling it back");
        assertThat(d.inProgress()).isTrue();
    }

    @Test
    void scaleInMovesFirstAndRemovesTheEmptiedShardsOnlyAfterwards() {
        var s = settled(4, 0);
        var d = decide(s, 2, Map.of(), all(s));
        assertThat(d.step()).isEqualTo(new Step.StartResharding(List.of("shard-0", "shard-1"), true));
        assertThat(d.shardObjects()).containsExactly(0, 1, 2, 3);
        var moving = resharding(4, 2);
        assertThat(decide(moving, 2, Map.of(), all(moving)).shardObjects()).containsExactly(0, 1, 2, 3);
        // done: the ring is shard-0, shard-1 and the topology still lists the others
        var t = moving.topology();
        var done = ClusterState.of(t.withOwnership(t.ownership().settle()));
        var r = decide(done, 2, Map.of(), all(done));
        assertThat(r.step()).isEqualTo(new Step.RemoveShards(List.of("shard-2", "shard-3")));
        assertThat(r.shardObjects()).as("objects stay until the shards left the topology").containsExactly(0, 1, 2, 3);
        assertThat(r.summary()).isEqualTo("4->2 removing");
        var gone = ClusterState.of(done.topology().withoutShard("shard-2").withoutShard("shard-3"));
        var end = decide(gone, 2, Map.of(), all(gone));
        assertThat(end.step()).isInstanceOf(Step.Settled.class);
        assertThat(end.shardObjects()).containsExactly(0, 1);
    }

    @Test
    void aShardAddedThenNoLongerWantedLeavesBeforeAnythingElse() {
        var s = settled(3, 1);
        var d = decide(s, 3, Map.of(), all(s));
        assertThat(d.step()).isEqualTo(new Step.RemoveShards(List.of("shard-3")));
        assertThat(d.shardObjects()).containsExactly(0, 1, 2, 3);
        var down = decide(s, 2, Map.of(), all(s));
        assertThat(down.step()).isEqualTo(new Step.RemoveShards(List.of("shard-3")));
    }

    @Test
    void aRefusedScaleInChangesNothingAndSaysWhy() {
        var s = settled(3, 0);
        var d = ShardScaling.decide(new Input(s, 1, 3, all(s), Map.of(), new Refusal(1, "spec.shards 3 -> 1 refused: ...")));
        assertThat(d.step()).isEqualTo(new Step.Refused("ScaleInRefused", "spec.shards 3 -> 1 refused: ..."));
        assertThat(d.shardObjects()).containsExactly(0, 1, 2);
        assertThat(d.inProgress()).isFalse();
        assertThat(d.summary()).isEqualTo("3->1 refused");
        var other = ShardScaling.decide(new Input(s, 2, 3, all(s), Map.of(), new Refusal(1, "old")));
        assertThat(other.step()).as("a refusal is for the shard count it was checked for")
                .isInstanceOf(Step.StartResharding.class);
    }

    @Test
    void shardsWithoutReplicasCannotBeResharded() {
        var s = settled(3, 0);
        var d = ShardScaling.decide(new Input(s, 4, 1, all(s), Map.of(), null));
        assertThat(d.step()).isInstanceOf(Step.Refused.class);
        assertThat(((Step.Refused) d.step()).reason()).isEqualTo("ReshardingNeedsReplicas");
        assertThat(d.message()).contains("replicasPerShard is 1", "set replicasPerShard to at least 2",
                "set spec.shards back to 3");
        assertThat(d.shardObjects()).as("no objects for shard-3").containsExactly(0, 1, 2);
    }
}
