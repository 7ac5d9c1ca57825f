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
import java.time.Instant;
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
                "c-shard-0-0", 10, 5));
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
}
