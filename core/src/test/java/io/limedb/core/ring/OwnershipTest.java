package io.limedb.core.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.ring.Ownership.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OwnershipTest {
    private static final int POSITIONS = 100_000;
    private static final int VNODES = HashRing.DEFAULT_VNODES;
    private static final List<String> THREE = List.of("shard-0", "shard-1", "shard-2");
    private static final List<String> FOUR = List.of("shard-0", "shard-1", "shard-2", "shard-3");

    private static String owner(HashRing ring, long position) {
        return ring.shards().get(ring.ownerIndexOf(position));
    }

    private static long[] randomPositions(long seed) {
        var rnd = new Random(seed);
        long[] out = new long[POSITIONS];
        for (int i = 0; i < out.length; i++) out[i] = rnd.nextLong();
        return out;
    }

    /** Random positions, the ring's extremes, and every vnode point of both rings with its neighbours. */
    private static List<Long> probes(Ownership o) {
        var out = new ArrayList<Long>(List.of(0L, 1L, -1L, -2L, Long.MAX_VALUE, Long.MIN_VALUE));
        for (long p : o.points()) {
            out.add(p - 1);
            out.add(p);
            out.add(p + 1);
        }
        for (long p : randomPositions(7)) out.add(p);
        return out;
    }

    /** Every position is in exactly one shard's set, the shard {@link Ownership#ownerOf} names. */
    private static void assertPartitionsTheRing(Ownership o) {
        var ranges = o.ranges();
        assertThat(ranges.keySet()).containsExactlyElementsOf(o.allShards());
        for (long p : probes(o)) {
            String owner = o.ownerOf(p);
            var holders = ranges.entrySet().stream().filter(e -> e.getValue().contains(p)).map(e -> e.getKey()).toList();
            assertThat(holders).as("%s: holders of %s", o, Long.toUnsignedString(p)).containsExactly(owner);
        }
        assertThat(ranges.values().stream().mapToDouble(RangeSet::share).sum()).isCloseTo(1.0, within(1e-9));
        assertThat(ranges.values().stream().reduce(RangeSet.empty(), RangeSet::union)).isEqualTo(RangeSet.all());
        for (String s : o.allShards()) assertThat(o.rangesOf(s)).isEqualTo(ranges.get(s));
    }

    @Test
    void aSettledRingOwnsEveryPositionByItsRing() {
        var o = Ownership.of(THREE, VNODES);
        var ring = HashRing.of(THREE, VNODES);
        assertThat(o.version()).isEqualTo(1);
        assertThat(o.resharding()).isFalse();
        assertThat(o.next()).isEmpty();
        assertThat(o.target().shards()).isEqualTo(THREE);
        for (long p : randomPositions(1)) assertThat(o.ownerOf(p)).isEqualTo(owner(ring, p));
    }

    @Test
    void beforeAnyFlipEveryPositionKeepsItsOldOwner() {
        var o = Ownership.of(THREE, VNODES).begin(FOUR);
        var old = HashRing.of(THREE, VNODES);
        var neu = HashRing.of(FOUR, VNODES);
        assertThat(o.version()).as("beginning changes no owner, so no version").isEqualTo(1);
        assertThat(o.resharding()).isTrue();
        assertThat(o.flipped()).isEmpty();
        assertThat(o.allShards()).isEqualTo(FOUR);
        assertThat(o.target().shards()).isEqualTo(FOUR);
        int differ = 0;
        for (long p : randomPositions(2)) {
            assertThat(o.ownerOf(p)).isEqualTo(owner(old, p));
            if (!owner(old, p).equals(owner(neu, p))) differ++;
        }
        assertThat(differ).as("the rings do differ").isPositive();
        assertThat(o.rangesOf("shard-3")).isEqualTo(RangeSet.empty());
    }

    @Test
    void aFlipHandsOnlyThePairsPositionsToTheTarget() {
        var begun = Ownership.of(THREE, VNODES).begin(FOUR);
        var pair = new Pair("shard-1", "shard-3");
        var o = begun.flip(pair);
        assertThat(o.version()).isEqualTo(2);
        assertThat(o.flipped()).containsExactly(pair);
        assertThat(o.shards()).isEqualTo(THREE);
        assertThat(o.next()).isEqualTo(FOUR);
        var old = HashRing.of(THREE, VNODES);
        var neu = HashRing.of(FOUR, VNODES);
        int moved = 0;
        for (long p : randomPositions(3)) {
            String before = owner(old, p), after = owner(neu, p);
            boolean flips = before.equals("shard-1") && after.equals("shard-3");
            assertThat(o.ownerOf(p)).as("position %s", Long.toUnsignedString(p)).isEqualTo(flips ? after : before);
            if (flips) moved++;
        }
        assertThat(moved / (double) POSITIONS).as("about a third of what shard-3 takes").isBetween(0.04, 0.13);
        assertThat(o.rangesOf("shard-3").share()).isCloseTo(moved / (double) POSITIONS, within(0.01));
    }

    @Test
    void flippingEveryPairOfThePlanGivesTheNewRingsOwners() {
        for (var rings : List.of(List.of(THREE, FOUR), List.of(FOUR, THREE), List.of(THREE, List.of("shard-2", "shard-3")))) {
            var from = rings.get(0);
            var to = rings.get(1);
            var o = Ownership.of(from, VNODES).begin(to);
            var plan = ReshardPlan.between(from, to, VNODES);
            for (Pair p : plan.moves().keySet()) o = o.flip(p);
            assertThat(o.version()).isEqualTo(1 + plan.moves().size());
            var neu = HashRing.of(to, VNODES);
            for (long p : randomPositions(4)) assertThat(o.ownerOf(p)).isEqualTo(owner(neu, p));
            var settled = o.settle();
            for (String s : to) assertThat(o.rangesOf(s)).as("%s -> %s: %s", from, to, s).isEqualTo(settled.rangesOf(s));
            for (String s : from) {
                if (!to.contains(s)) assertThat(o.rangesOf(s)).as("%s left the ring", s).isEqualTo(RangeSet.empty());
            }
        }
    }

    @Test
    void rangesPartitionTheWholeRingAtEveryStep() {
        assertPartitionsTheRing(Ownership.of(THREE, VNODES));
        assertPartitionsTheRing(Ownership.of(List.of("only"), 8));
        assertPartitionsTheRing(Ownership.of(List.of("only"), 1));
        assertPartitionsTheRing(Ownership.of(List.of("a", "b"), 1));

        var begun = Ownership.of(THREE, VNODES).begin(FOUR);
        assertPartitionsTheRing(begun);
        var o = begun;
        for (Pair p : ReshardPlan.between(THREE, FOUR, VNODES).moves().keySet()) {
            o = o.flip(p);
            assertPartitionsTheRing(o);
        }
        assertPartitionsTheRing(o.settle());

        var in = Ownership.of(FOUR, VNODES).begin(THREE).flip(new Pair("shard-3", "shard-0"));
        assertPartitionsTheRing(in);
        var single = Ownership.of(List.of("only"), 8).begin(List.of("only", "new")).flip(new Pair("only", "new"));
        assertPartitionsTheRing(single);
        assertThat(single.rangesOf("new").share()).isBetween(0.1, 0.9);
    }

    @Test
    void aFlipMovesExactlyThePlansRangesForThatPair() {
        var begun = Ownership.of(THREE, VNODES).begin(FOUR);
        var plan = ReshardPlan.between(THREE, FOUR, VNODES);
        var o = begun;
        for (var e : plan.moves().entrySet()) {
            var next = o.flip(e.getKey());
            String src = e.getKey().source(), dst = e.getKey().target();
            assertThat(next.rangesOf(src)).isEqualTo(o.rangesOf(src).minus(e.getValue()));
            assertThat(next.rangesOf(dst)).isEqualTo(o.rangesOf(dst).union(e.getValue()));
            o = next;
        }
    }

    @Test
    void settleGivesTheNewRingAtTheNextVersion() {
        var o = Ownership.of(THREE, VNODES).begin(FOUR).flip(new Pair("shard-0", "shard-3"));
        var s = o.settle();
        assertThat(s.version()).isEqualTo(o.version() + 1);
        assertThat(s.shards()).isEqualTo(FOUR);
        assertThat(s.next()).isEmpty();
        assertThat(s.flipped()).isEmpty();
        assertThat(s.resharding()).isFalse();
        assertThat(s.vnodes()).isEqualTo(VNODES);
        assertThat(s).isEqualTo(new Ownership(3, VNODES, FOUR, List.of(), Set.of()));
        var neu = HashRing.of(FOUR, VNODES);
        for (long p : randomPositions(5)) assertThat(s.ownerOf(p)).isEqualTo(owner(neu, p));

        var settled = Ownership.of(THREE, VNODES);
        assertThat(settled.settle()).as("nothing to settle").isSameAs(settled);
    }

    @Test
    void equalityIgnoresTheOrderOfFlips() {
        var a = Ownership.of(THREE, VNODES).begin(FOUR).flip(new Pair("shard-0", "shard-3")).flip(new Pair("shard-1", "shard-3"));
        var b = Ownership.of(THREE, VNODES).begin(FOUR).flip(new Pair("shard-1", "shard-3")).flip(new Pair("shard-0", "shard-3"));
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(a.flip(new Pair("shard-2", "shard-3")));
    }

    @Test
    void rejectsBadInput() {
        assertThatThrownBy(() -> new Ownership(0, VNODES, THREE, List.of(), Set.of())).hasMessageContaining("version");
        assertThatThrownBy(() -> new Ownership(1, VNODES, THREE, List.of(), Set.of(new Pair("shard-0", "shard-3"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without a ring being moved to");
        assertThatThrownBy(() -> Ownership.of(THREE, VNODES).flip(new Pair("shard-0", "shard-3")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no resharding");
        assertThatThrownBy(() -> new Pair("a", "a")).hasMessageContaining("two different shards");
        assertThat(Pair.parse("shard-0>shard-3")).isEqualTo(new Pair("shard-0", "shard-3"));
        assertThat(new Pair("shard-0", "shard-3").toString()).isEqualTo("shard-0>shard-3");
        for (String bad : new String[] {"shard-0", ">shard-3", "shard-0>", "", null}) {
            assertThatThrownBy(() -> Pair.parse(bad)).as("'%s'", bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("source>target");
        }
    }
}
