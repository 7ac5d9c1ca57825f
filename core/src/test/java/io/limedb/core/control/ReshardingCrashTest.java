package io.limedb.core.control;

import static io.limedb.core.control.ReshardWorld.FOUR;
import static io.limedb.core.control.ReshardWorld.THREE;
import static io.limedb.core.control.ReshardWorld.VNODES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.control.RangesPort.PullState;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.reshard.Resharding.Phase;

import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A controller that dies at any step of a resharding or of its rollback (before or after any store
 * write or {@link RangesPort} call takes effect) and is replaced by a new instance on the same store
 * and shards (asked again for the same ring) finishes it, and at no moment, crashed or not, do two shards own a position, or the topology name an
 * owner that does not hold the data (see {@link ShardData}).
 */
class ReshardingCrashTest {

    /** From the ring {@code from}, after {@code prelude} (a controller that does not crash), reshard to {@code to}. */
    record Scenario(String name, List<String> from, Consumer<ReshardWorld> prelude, List<String> to) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Scenario> scenarios() {
        return List.of(
                new Scenario("3 -> 4", THREE, w -> { }, FOUR),
                new Scenario("4 -> 3", FOUR, w -> { }, THREE),
                new Scenario("3 -> 4 rolled back once its first move flipped", THREE, w -> {
                    var first = ReshardPlan.between(THREE, FOUR, VNODES).moves().keySet().iterator().next();
                    w.afterWrite = s -> {
                        if (s.resharding() != null && s.resharding().moves().get(first).phase() == Phase.FLIPPED) {
                            throw new Faults.Crash("stopped once " + first + " flipped");
                        }
                    };
                    var loop = w.loop();
                    loop.reshard(FOUR);
                    assertThatThrownBy(() -> {
                        for (int i = 0; i < 5; i++) w.tick(loop);
                    }).isInstanceOf(Faults.Crash.class);
                    w.afterWrite = s -> { };
                }, THREE),
                new Scenario("3 -> 4 rolled back while its first move flips", THREE, w -> {
                    w.shards.finishAnswer = PullState.FAILED;
                    var loop = w.loop();
                    loop.reshard(FOUR);
                    w.tick(loop);
                    assertThat(w.store.state().resharding().moves().values()).extracting(Resharding.Move::phase)
                            .contains(Phase.FLIPPING);
                    w.shards.finishAnswer = null;
                }, THREE),
                new Scenario("4 -> 3 rolled back while its second move copies", FOUR, w -> {
                    w.afterWrite = s -> {
                        if (s.resharding() != null && s.resharding().moves().values().stream()
                                .anyMatch(m -> m.phase() == Phase.DONE)) {
                            w.shards.copyAnswer = PullState.COPYING;
                        }
                    };
                    var loop = w.loop();
                    loop.reshard(THREE);
                    for (int i = 0; i < 3; i++) w.tick(loop);
                    w.afterWrite = s -> { };
                    w.shards.copyAnswer = null;
                }, FOUR));
    }

    /** Every operation of a clean run, crashed before and after its effect. */
    static Stream<Arguments> crashes() {
        return scenarios().stream().flatMap(s -> {
            var clean = new ReshardWorld(s.from());
            s.prelude().accept(clean);
            int before = clean.faults.ops();
            clean.finish(clean.loop(), s.to());
            assertSettled(clean, s);
            int ops = clean.faults.ops() - before;
            assertThat(ops).as("a clean run of %s does something", s).isGreaterThan(10);
            return IntStream.rangeClosed(1, ops).boxed()
                    .flatMap(k -> Stream.of(Arguments.of(s, k, "before"), Arguments.of(s, k, "after")));
        });
    }

    @ParameterizedTest(name = "{0}: crash {2} operation {1}")
    @MethodSource("crashes")
    void aNewControllerFinishesAReshardingACrashedOneStarted(Scenario s, int k, String when) {
        var w = new ReshardWorld(s.from());
        s.prelude().accept(w);
        w.faults.crashAt(k, when.equals("after"));
        var first = w.loop();
        boolean crashed = false;
        try {
            first.reshard(s.to());
            for (int i = 0; i < ReshardWorld.MAX_TICKS; i++) w.tick(first);
        } catch (Faults.Crash c) {
            crashed = true;
        }
        assertThat(crashed).as("the first controller reached operation %d", k).isTrue();
        w.faults.off();

        w.finish(w.loop(), s.to());

        assertSettled(w, s);
    }

    private static void assertSettled(ReshardWorld w, Scenario s) {
        w.assertSettledOn(s.to(), 1);
        assertThat(w.shards.checks).as("invariants checked").isGreaterThan(10);
    }
}
