package io.limedb.core.control;

import static io.limedb.core.control.Fixture.A;
import static io.limedb.core.control.Fixture.B;
import static io.limedb.core.control.Fixture.C;
import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.topology.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A controller that dies at any step (before or after any store write or member call takes effect)
 * and is replaced by a new instance on the same store and members finishes the job: exactly one
 * primary, named by the topology, at an epoch used by no other attempt.
 */
class ControlLoopCrashTest {

    private static final long RUN_MS = 10_000;

    record Scenario(String name, Supplier<Fixture> setup, String primary, long epoch) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Scenario> scenarios() {
        return List.of(
                new Scenario("sync failover", () -> {
                    var f = Fixture.healthy(3, 100);
                    f.node(B).lastSeq = 90;
                    f.node(C).lastSeq = 95;
                    f.node(A).alive = false;
                    return f;
                }, C, 4),
                new Scenario("old primary partitioned", () -> {
                    var f = Fixture.healthy(3, 100);
                    f.node(A).reachable = false;
                    return f;
                }, B, 4),
                new Scenario("async failover", () -> {
                    var f = Fixture.healthy(2, 50);
                    f.policy = FailoverPolicy.async(100);
                    f.node(C).lastSeq = 49;
                    f.node(A).alive = false;
                    return f;
                }, B, 3),
                new Scenario("bootstrap", Fixture::fresh, A, 1));
    }

    /** Every operation of a clean run, crashed before and after its effect. */
    static Stream<Arguments> crashes() {
        return scenarios().stream().flatMap(s -> {
            var clean = s.setup().get();
            clean.run(clean.loop(), RUN_MS);
            int ops = clean.faults.ops();
            assertThat(ops).as("a clean run of %s does something", s).isGreaterThan(3);
            return IntStream.rangeClosed(1, ops).boxed()
                    .flatMap(k -> Stream.of(Arguments.of(s, k, "before"), Arguments.of(s, k, "after")));
        });
    }

    @ParameterizedTest(name = "{0}: crash {2} operation {1}")
    @MethodSource("crashes")
    void aNewControllerFinishesWhatACrashedOneStarted(Scenario s, int k, String when) {
        var f = s.setup().get();
        f.faults.crashAt(k, when.equals("after"));
        var first = f.loop();
        boolean crashed = false;
        for (long t = 0; t < RUN_MS && !crashed; t += Fixture.TICK_MS) {
            try {
                first.tick();
            } catch (Faults.Crash c) {
                crashed = true;
            }
            f.advance(Fixture.TICK_MS);
        }
        assertThat(crashed).as("the first controller reached operation %d", k).isTrue();
        f.faults.off();

        f.run(f.loop(), RUN_MS);

        assertThat(f.members.violations).isEmpty();
        assertThat(f.store.state().intent(Fixture.SHARD)).isEmpty();
        assertThat(f.shard().primary().id()).isEqualTo(s.primary());
        assertThat(f.shard().epoch()).isEqualTo(s.epoch());
        assertThat(f.highestMemberEpoch()).isEqualTo(s.epoch());
        assertThat(f.primariesAt(s.epoch())).containsExactly(s.primary());
        assertThat(f.members.promotedAt).isEqualTo(Map.of(s.epoch(), Set.of(s.primary())));
        assertThat(f.store.state().topology().version()).isEqualTo(2);
        for (var n : f.members.nodes()) {
            if (!n.alive || !n.reachable || n.id.equals(s.primary())) continue;
            assertThat(n.role).as(n.id).isEqualTo(Role.REPLICA);
            assertThat(n.following).as(n.id).isEqualTo(s.primary());
            assertThat(n.epoch).as(n.id).isEqualTo(s.epoch());
        }
        assertThat(attemptEpochs(f)).isSortedAccordingTo(Long::compare).doesNotHaveDuplicates();
    }

    /** The epochs of the recorded attempts, in the order they were recorded. */
    private static List<Long> attemptEpochs(Fixture f) {
        var out = new ArrayList<Long>();
        for (var state : f.store.history()) {
            state.intent(Fixture.SHARD).ifPresent(i -> {
                if (out.isEmpty() || out.getLast() != i.epoch()) out.add(i.epoch());
            });
        }
        return out;
    }
}
