package io.limedb.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.failover.MemberReport;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.operator.crd.LimeClusterStatus;
import io.limedb.operator.status.ClusterStatusCalculator.Observation;
import io.limedb.operator.status.ClusterStatusCalculator.ShardObservation;
import io.limedb.core.control.ClusterState;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.operator.scaling.ShardScaling;
import java.time.Instant;
import java.util.HashSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterStatusCalculatorTest {
    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");

    private static ShardInfo shard(int i, long epoch) {
        var ms = new ArrayList<Member>();
        for (int j = 0; j < 3; j++) {
            ms.add(new Member("c-shard-" + i + "-" + j, "h" + j + ":9090", j == 0 ? Role.PRIMARY : Role.REPLICA));
        }
        return new ShardInfo("shard-" + i, epoch, ms);
    }

    private static Observation obs(long generation, boolean reconciled, List<ShardObservation> shards, int coords) {
        var topology = new Topology(7, 256, shards.stream().map(ShardObservation::shard).toList());
        return new Observation(generation, reconciled, 3, 3, topology, shards, coords, 1, "c-coordinator.ns.svc:6379",
                false, "");
    }

    private static List<ShardObservation> healthy() {
        var lag = Map.of("c-shard-0-1", new MemberReport("c-shard-0-1", Role.REPLICA, 1, 1, 90, "s", true,
                "c-shard-0-0", 10, 5, false, 0));
        return List.of(new ShardObservation(shard(0, 1), true, 3, lag), new ShardObservation(shard(1, 1), true, 3, Map.of()),
                new ShardObservation(shard(2, 2), true, 3, Map.of()));
    }

    private static String cond(LimeClusterStatus s, String type) {
        return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow().getStatus();
    }

    @Test
    void aReconciledClusterWithEveryPrimaryServingIsReadyAndSaysWhereToConnect() {
        var s = ClusterStatusCalculator.compute(obs(4, true, healthy(), 1), null, T0);
        assertThat(s.phase).isEqualTo("Running");
        assertThat(s.observedGeneration).isEqualTo(4);
        assertThat(s.ready).isEqualTo("3/3");
        assertThat(s.readyShards).isEqualTo(3);
        assertThat(s.ringVersion).isEqualTo(7);
        assertThat(s.currentShards).isEqualTo(3);
        assertThat(s.coordinatorEndpoint).isEqualTo("c-coordinator.ns.svc:6379");
        assertThat(cond(s, "Ready")).isEqualTo("True");
        assertThat(cond(s, "Available")).isEqualTo("True");
        assertThat(cond(s, "Progressing")).isEqualTo("False");
        assertThat(cond(s, "Degraded")).isEqualTo("False");
        assertThat(s.shards).extracting(x -> x.name, x -> x.primary, x -> x.epoch, x -> x.readyReplicas)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("shard-0", "c-shard-0-0", 1L, 3),
                        org.assertj.core.groups.Tuple.tuple("shard-1", "c-shard-1-0", 1L, 3),
                        org.assertj.core.groups.Tuple.tuple("shard-2", "c-shard-2-0", 2L, 3));
        assertThat(s.shards.getFirst().maxLagRecords).isEqualTo(10);
    }

    @Test
    void aGenerationNotYetReconciledIsNeverReadyAndKeepsTheOldObservedGeneration() {
        var before = ClusterStatusCalculator.compute(obs(4, true, healthy(), 1), null, T0);
        var s = ClusterStatusCalculator.compute(obs(5, false, healthy(), 1), before, T0.plusSeconds(5));
        assertThat(cond(s, "Ready")).isEqualTo("False");
        assertThat(s.observedGeneration).isEqualTo(4);
        assertThat(s.conditions.stream().filter(c -> c.getType().equals("Ready")).findFirst().orElseThrow().getMessage())
                .contains("generation 5 is not applied yet");
    }

    @Test
    void aShardWithoutAServingPrimaryIsNotReadyNotAvailableAndDegraded() {
        var shards = new ArrayList<>(healthy());
        shards.set(1, new ShardObservation(shard(1, 1), false, 2, Map.of()));
        var s = ClusterStatusCalculator.compute(obs(4, true, shards, 1), null, T0);
        assertThat(s.phase).isEqualTo("Degraded");
        assertThat(cond(s, "Ready")).isEqualTo("False");
        assertThat(cond(s, "Available")).isEqualTo("False");
        assertThat(cond(s, "Degraded")).isEqualTo("True");
        assertThat(s.ready).isEqualTo("2/3");
    }

    @Test
    void aNewClusterIsCreatingUntilItsFirstPrimariesAreElected() {
        var shards = List.of(new ShardObservation(shard(0, 0), false, 0, Map.of()),
                new ShardObservation(shard(1, 0), false, 0, Map.of()), new ShardObservation(shard(2, 0), false, 0, Map.of()));
        var s = ClusterStatusCalculator.compute(obs(1, true, shards, 0), null, T0);
        assertThat(s.phase).isEqualTo("Creating");
        assertThat(cond(s, "Ready")).isEqualTo("False");
        assertThat(cond(s, "Degraded")).as("not degraded while being created").isEqualTo("False");
        assertThat(s.shards).allSatisfy(x -> assertThat(x.primary).isEmpty());
    }

    @Test
    void pausedSaysSoAndAnUnsupportedChangeSaysWhatToDo() {
        var o = obs(4, true, healthy(), 1);
        var paused = new Observation(o.generation(), false, 3, 3, o.topology(), o.shards(), 1, 1, "e", true, "");
        var s = ClusterStatusCalculator.compute(paused, null, T0);
        assertThat(s.phase).isEqualTo("Paused");
        assertThat(s.conditions).anySatisfy(c -> assertThat(c.getReason()).isEqualTo("Paused"));
        var blocked = new Observation(6, false, 4, 3, o.topology(), o.shards(), 1, 1, "e", false,
                "spec.shards changed from 3 to 4: set spec.shards back to 3");
        var b = ClusterStatusCalculator.compute(blocked, null, T0);
        assertThat(b.phase).isEqualTo("Failed");
        assertThat(cond(b, "Ready")).isEqualTo("False");
        assertThat(b.conditions.getFirst().getMessage()).contains("set spec.shards back to 3");
    }

    @Test
    void aConditionKeepsItsTransitionTimeWhileItsStatusStaysTheSame() {
        var first = ClusterStatusCalculator.compute(obs(4, true, healthy(), 1), null, T0);
        var second = ClusterStatusCalculator.compute(obs(4, true, healthy(), 1), first, T0.plusSeconds(60));
        assertThat(second.conditions.getFirst().getLastTransitionTime()).isEqualTo(T0.toString());
        var shards = new ArrayList<>(healthy());
        shards.set(0, new ShardObservation(shard(0, 1), false, 2, Map.of()));
        var third = ClusterStatusCalculator.compute(obs(4, true, shards, 1), second, T0.plusSeconds(90));
        assertThat(third.conditions.getFirst().getLastTransitionTime()).isEqualTo(T0.plusSeconds(90).toString());
    }

    // ---- spec.shards changes ----

    private static String message(LimeClusterStatus s, String type) {
        return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow().getMessage();
    }

    private static String reason(LimeClusterStatus s, String type) {
        return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow().getReason();
    }

    /** Shards 0-2 in the ring, shard-3 in the topology with {@code epoch}, serving when its epoch is set. */
    private static List<ShardObservation> withFourth(long epoch) {
        var shards = new ArrayList<>(healthy());
        shards.add(new ShardObservation(shard(3, epoch), epoch > 0, 3, Map.of()));
        return shards;
    }

    private static Observation scaled(List<ShardObservation> shards, Topology topology, int desired, String problem,
            ShardScaling.Decision d) {
        return new Observation(8, problem.isEmpty(), desired, 3, topology, shards, 1, 1, "e", false, problem, d);
    }

    private static Topology ringOfThreeWithFourth(List<ShardObservation> shards) {
        var t = new Topology(9, 256, shards.subList(0, 3).stream().map(ShardObservation::shard).toList());
        return t.withShard(shards.get(3).shard());
    }

    private static ShardScaling.Decision decision(Topology t, ClusterState state, int desired) {
        var serving = new HashSet<String>();
        t.shards().stream().filter(x -> x.epoch() > 0).forEach(x -> serving.add(x.id()));
        return ShardScaling.decide(new ShardScaling.Input(state, desired, 3, serving, Map.of("shard-3", 3), null));
    }

    @Test
    void aNewShardGettingItsFirstPrimaryIsNeitherDegradedNorAReasonToBeNotReady() {
        var shards = withFourth(0);
        var t = ringOfThreeWithFourth(shards);
        var d = decision(t, ClusterState.of(t), 4);
        var s = ClusterStatusCalculator.compute(scaled(shards, t, 4, "", d), null, T0);
        assertThat(cond(s, "Ready")).isEqualTo("True");
        assertThat(cond(s, "Degraded")).isEqualTo("False");
        assertThat(cond(s, "Available")).isEqualTo("True");
        assertThat(s.phase).isEqualTo("Resharding");
        assertThat(cond(s, "Progressing")).isEqualTo("True");
        assertThat(reason(s, "Progressing")).isEqualTo("Resharding");
        assertThat(message(s, "Progressing")).contains("waiting for a serving primary in shard-3");
        assertThat(s.ready).isEqualTo("3/4");
        assertThat(s.currentShards).isEqualTo(4);
        assertThat(s.resharding.summary).isEqualTo("3->4 adding");
        assertThat(s.resharding.step).isEqualTo("AddingShards");
        assertThat(s.observedGeneration).isEqualTo(8);
    }

    @Test
    void whileRangesMoveTheClusterStaysReadyAndStatusSaysHowFarItGot() {
        var shards = withFourth(1);
        var t0 = ringOfThreeWithFourth(shards);
        var o = t0.ownership().begin(ShardScaling.ring(4));
        var plan = ReshardPlan.between(o.shards(), o.next(), 256);
        var progress = Resharding.start(plan);
        Pair first = progress.moves().keySet().iterator().next();
        progress = progress.with(first, progress.moves().get(first).copied(1200, 96_000).with(Resharding.Phase.DONE));
        var t = t0.withOwnership(o.flip(first));
        var state = new ClusterState(t, Map.of(), progress);
        var s = ClusterStatusCalculator.compute(scaled(shards, t, 4, "", decision(t, state, 4)), null, T0);
        assertThat(cond(s, "Ready")).isEqualTo("True");
        assertThat(s.phase).isEqualTo("Resharding");
        int moved = progress.movedRanges();
        int total = progress.totalRanges();
        assertThat(moved).isPositive().isLessThan(total);
        assertThat(message(s, "Progressing")).isEqualTo("resharding 3 -> 4 shards: " + moved + " of " + total
                + " ranges moved, 1200 keys, 96000 bytes");
        assertThat(s.resharding.from).isEqualTo(3);
        assertThat(s.resharding.to).isEqualTo(4);
        assertThat(s.resharding.rangesMoved).isEqualTo(moved);
        assertThat(s.resharding.rangesTotal).isEqualTo(total);
        assertThat(s.resharding.keys).isEqualTo(1200);
        assertThat(s.resharding.bytes).isEqualTo(96_000);
        assertThat(s.resharding.summary).isEqualTo("3->4 " + moved + "/" + total);
        assertThat(s.ready).isEqualTo("4/4");

        // a shard losing its primary meanwhile: not Ready, Degraded, still Progressing (the resharding waits)
        var down = new ArrayList<>(shards);
        down.set(1, new ShardObservation(shard(1, 1), false, 2, Map.of()));
        var d = ClusterStatusCalculator.compute(scaled(down, t, 4, "", decision(t, state, 4)), s, T0.plusSeconds(5));
        assertThat(cond(d, "Ready")).isEqualTo("False");
        assertThat(cond(d, "Degraded")).isEqualTo("True");
        assertThat(d.phase).isEqualTo("Degraded");
        assertThat(reason(d, "Progressing")).isEqualTo("Resharding");
        assertThat(d.resharding).isNotNull();

        // queued: the resharding's target stays, the queued count is shown
        var q = ClusterStatusCalculator.compute(scaled(shards, t, 5, "", decision(t, state, 5)), s, T0.plusSeconds(5));
        assertThat(q.resharding.queuedShards).isEqualTo(5);
        assertThat(q.resharding.to).isEqualTo(4);
        assertThat(message(q, "Progressing")).contains("spec.shards 5 is queued");
    }

    @Test
    void aRefusedScaleInIsNotReadyNorProgressingAndSaysWhy() {
        var t = new Topology(7, 256, healthy().stream().map(ShardObservation::shard).toList());
        var refusal = new ShardScaling.Refusal(1, "spec.shards 3 -> 1 refused: the data (1.7 GiB live ...");
        var d = ShardScaling.decide(new ShardScaling.Input(ClusterState.of(t), 1, 3,
                java.util.Set.of("shard-0", "shard-1", "shard-2"), Map.of(), refusal));
        var s = ClusterStatusCalculator.compute(scaled(healthy(), t, 1, refusal.message(), d), null, T0);
        assertThat(cond(s, "Ready")).isEqualTo("False");
        assertThat(reason(s, "Ready")).isEqualTo("ScaleInRefused");
        assertThat(message(s, "Ready")).isEqualTo(refusal.message());
        assertThat(cond(s, "Progressing")).isEqualTo("False");
        assertThat(reason(s, "Progressing")).isEqualTo("Blocked");
        assertThat(cond(s, "Available")).isEqualTo("True");
        assertThat(s.phase).isEqualTo("Failed");
        assertThat(s.ready).isEqualTo("3/3");
        assertThat(s.resharding.step).isEqualTo("Refused");
        assertThat(s.resharding.summary).isEqualTo("3->1 refused");
    }

    @Test
    void settledAfterAScaleInIsRunningWithoutReshardingStatus() {
        var t = new Topology(12, 256, healthy().stream().map(ShardObservation::shard).toList());
        var s = ClusterStatusCalculator.compute(scaled(healthy(), t, 3, "", decision(t, ClusterState.of(t), 3)), null, T0);
        assertThat(s.phase).isEqualTo("Running");
        assertThat(s.resharding).isNull();
        assertThat(reason(s, "Progressing")).isEqualTo("Reconciled");
    }
}
