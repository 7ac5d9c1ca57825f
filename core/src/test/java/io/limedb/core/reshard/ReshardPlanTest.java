package io.limedb.core.reshard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.limedb.core.ring.HashRing;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.core.ring.RangeSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ReshardPlanTest {
    private static final int POSITIONS = 100_000;
    private static final int VNODES = HashRing.DEFAULT_VNODES;
    private static final List<String> THREE = List.of("shard-0", "shard-1", "shard-2");
    private static final List<String> FOUR = List.of("shard-0", "shard-1", "shard-2", "shard-3");
    private static final long TIME_BOUND_MS = 10_000;

    private static String owner(HashRing ring, long position) {
        return ring.shards().get(ring.ownerIndexOf(position));
    }

    private static List<String> shards(int n) {
        return IntStream.range(0, n).mapToObj(i -> "shard-" + i).toList();
    }

    /**
     * For random positions: a position is in some move iff its owner differs between the rings, and then
     * in exactly the move of (old owner, new owner). Returns the fraction of positions that move.
     */
    private static double assertMovesArePositionsThatChangeOwner(ReshardPlan plan, List<String> from, List<String> to,
            long seed) {
        var a = HashRing.of(from, VNODES);
        var b = HashRing.of(to, VNODES);
        var rnd = new Random(seed);
        int moved = 0;
        for (int i = 0; i < POSITIONS; i++) {
            long p = rnd.nextLong();
            String before = owner(a, p), after = owner(b, p);
            var in = plan.moves().entrySet().stream().filter(e -> e.getValue().contains(p)).map(e -> e.getKey()).toList();
            if (before.equals(after)) {
                assertThat(in).as("position %s stays on %s", Long.toUnsignedString(p), before).isEmpty();
            } else {
                assertThat(in).as("position %s", Long.toUnsignedString(p)).containsExactly(new Pair(before, after));
                moved++;
            }
        }
        return moved / (double) POSITIONS;
    }

    @Test
    void addingAShardMovesOnlyToItFromTheOldOwners() {
        var plan = ReshardPlan.between(THREE, FOUR, VNODES);
        assertThat(plan.from()).isEqualTo(THREE);
        assertThat(plan.to()).isEqualTo(FOUR);
        assertThat(plan.moves().keySet()).as("every old shard gives some ranges to the new one")
                .containsExactly(new Pair("shard-0", "shard-3"), new Pair("shard-1", "shard-3"), new Pair("shard-2", "shard-3"));
        assertThat(plan.moves().keySet()).allSatisfy(p -> assertThat(p.target()).isEqualTo("shard-3"));
        assertThat(plan.moves().values()).allSatisfy(r -> assertThat(r.isEmpty()).isFalse());
        double moved = assertMovesArePositionsThatChangeOwner(plan, THREE, FOUR, 1);
        assertThat(plan.share()).isCloseTo(moved, within(0.01));
        assertThat(plan.rangeCount()).isEqualTo(plan.moves().values().stream().mapToInt(RangeSet::size).sum())
                .isPositive();
    }

    @Test
    void removingAShardMovesOnlyFromIt() {
        var plan = ReshardPlan.between(FOUR, THREE, VNODES);
        assertThat(plan.moves()).isNotEmpty();
        assertThat(plan.moves().keySet()).allSatisfy(p -> assertThat(p.source()).isEqualTo("shard-3"));
        assertThat(plan.moves().keySet().stream().map(Pair::target)).containsExactlyInAnyOrderElementsOf(THREE);
        double moved = assertMovesArePositionsThatChangeOwner(plan, FOUR, THREE, 2);
        assertThat(plan.share()).isCloseTo(moved, within(0.01));
        assertThat(plan.share()).as("what shard-3 owned").isCloseTo(HashRing.of(FOUR, VNODES).shares().get("shard-3"),
                within(1e-9));
    }

    @Test
    void addingAFourthShardMovesAboutAQuarterOfTheRing() {
        var plan = ReshardPlan.between(THREE, FOUR, VNODES);
        assertThat(plan.share()).isBetween(0.15, 0.35);
        assertThat(plan.share()).as("what shard-3 will own")
                .isCloseTo(HashRing.of(FOUR, VNODES).shares().get("shard-3"), within(1e-9));
    }

    @Test
    void replacingAShardAndReorderingMovesOnlyWhatChangesOwner() {
        var to = List.of("shard-2", "shard-0", "shard-4");
        var plan = ReshardPlan.between(THREE, to, VNODES);
        assertThat(plan.moves().keySet()).allSatisfy(p -> assertThat(p.target()).isNotEqualTo("shard-1"));
        assertThat(plan.moves().keySet()).allSatisfy(p -> assertThat(p.source()).isNotEqualTo("shard-4"));
        assertMovesArePositionsThatChangeOwner(plan, THREE, to, 3);
        assertThat(ReshardPlan.between(List.of("a"), List.of("b"), 8).moves())
                .containsExactlyEntriesOf(java.util.Map.of(new Pair("a", "b"), RangeSet.all()));
    }

    @Test
    void movesAreDisjointAndSortedBySourceThenTarget() {
        var plan = ReshardPlan.between(FOUR, List.of("shard-0", "shard-2", "shard-4", "shard-5"), VNODES);
        var pairs = List.copyOf(plan.moves().keySet());
        for (int i = 1; i < pairs.size(); i++) {
            var a = pairs.get(i - 1);
            var b = pairs.get(i);
            int bySource = a.source().compareTo(b.source());
            assertThat(bySource < 0 || bySource == 0 && a.target().compareTo(b.target()) < 0).as("%s before %s", a, b).isTrue();
        }
        var seen = new HashSet<Pair>();
        for (var e : plan.moves().entrySet()) {
            for (var f : plan.moves().entrySet()) {
                if (e.getKey().equals(f.getKey())) continue;
                assertThat(e.getValue().minus(f.getValue())).as("%s and %s", e.getKey(), f.getKey()).isEqualTo(e.getValue());
            }
            seen.add(e.getKey());
        }
        assertThat(seen).hasSize(pairs.size());
    }

    @Test
    void theSameRingMovesNothing() {
        var plan = ReshardPlan.between(THREE, THREE, VNODES);
        assertThat(plan.moves()).isEmpty();
        assertThat(plan.share()).isZero();
        assertThat(plan.rangeCount()).isZero();
        assertThat(ReshardPlan.between(THREE, List.of("shard-2", "shard-1", "shard-0"), VNODES).moves())
                .as("the ring does not depend on the order of its shards").isEmpty();
        assertThatThrownBy(() -> ReshardPlan.between(THREE, List.of(), VNODES)).hasMessageContaining("at least one shard");
    }

    @Test
    void planFor256ShardsIsFast() {
        var from = shards(256);
        var to = shards(257);
        long t0 = System.nanoTime();
        var plan = ReshardPlan.between(from, to, VNODES);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("ReshardPlan.between(256 -> 257 shards, %d vnodes): %d ms, %d moves, %d ranges, share %.4f%n",
                VNODES, ms, plan.moves().size(), plan.rangeCount(), plan.share());
        assertThat(ms).as("time to plan 256 -> 257 shards (ms)").isLessThan(TIME_BOUND_MS);
        assertThat(plan.moves().keySet()).allSatisfy(p -> assertThat(p.target()).isEqualTo("shard-256"));
        assertThat(plan.share()).isCloseTo(1 / 257.0, within(0.5 / 257));
    }

    @Test
    void ownershipRangesFor256ShardsIsFast() {
        var from = shards(256);
        var to = shards(257);
        var plan = ReshardPlan.between(from, to, VNODES);
        var o = Ownership.of(from, VNODES).begin(to);
        int half = 0;
        for (Pair p : plan.moves().keySet()) {
            if (half++ % 2 == 0) o = o.flip(p);
        }
        long t0 = System.nanoTime();
        var ranges = o.ranges();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        long t1 = System.nanoTime();
        var settled = o.settle().ranges();
        long settledMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
        System.out.printf("Ownership.ranges(256 -> 257 shards, %d vnodes, %d of %d pairs flipped): %d ms; settled 257: %d ms%n",
                VNODES, o.flipped().size(), plan.moves().size(), ms, settledMs);
        assertThat(ms).as("time for Ownership.ranges() of 256 -> 257 shards (ms)").isLessThan(TIME_BOUND_MS);
        assertThat(settledMs).as("time for Ownership.ranges() of 257 shards (ms)").isLessThan(TIME_BOUND_MS);
        assertThat(ranges).hasSize(257);
        assertThat(settled).hasSize(257);
        assertThat(ranges.values().stream().mapToDouble(RangeSet::share).sum()).isCloseTo(1.0, within(1e-9));
        assertThat(ranges.get("shard-256").share()).isGreaterThan(0).isLessThan(settled.get("shard-256").share());
    }
}
