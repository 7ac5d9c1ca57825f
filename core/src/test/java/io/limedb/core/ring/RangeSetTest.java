package io.limedb.core.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RangeSetTest {
    private static final long TOP = -1L; // the highest ring position, unsigned
    private static final long[] EDGES = {0, 1, 2, -1L, -2L, -3L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, -(1L << 62)};

    private static RangeSet of(RingRange... rs) {
        return RangeSet.of(List.of(rs));
    }

    /** Ring ranges with ends that are often at the bottom or the top of the ring, or near each other. */
    private static List<RingRange> randomRanges(Random rnd, int n) {
        var out = new ArrayList<RingRange>();
        for (int i = 0; i < n; i++) {
            long s = rnd.nextInt(4) == 0 ? EDGES[rnd.nextInt(EDGES.length)] : rnd.nextLong();
            long e = switch (rnd.nextInt(4)) {
                case 0 -> EDGES[rnd.nextInt(EDGES.length)];
                case 1 -> s + 1 + rnd.nextInt(1000); // short, wraps when s is near the top
                default -> rnd.nextLong();
            };
            if (s == e && rnd.nextInt(20) != 0) e++; // the whole ring, but not too often
            out.add(new RingRange(s, e));
        }
        return out;
    }

    /** Random positions plus every end of the given ranges, and the positions just around them. */
    private static List<Long> probes(Random rnd, List<RingRange> ranges) {
        var out = new ArrayList<Long>();
        for (long e : EDGES) out.add(e);
        for (RingRange r : ranges) {
            for (long p : new long[] {r.startExclusive(), r.endInclusive()}) {
                out.add(p - 1);
                out.add(p);
                out.add(p + 1);
            }
        }
        for (int i = 0; i < 2_000; i++) out.add(rnd.nextLong());
        return out;
    }

    private static boolean anyContains(List<RingRange> ranges, long p) {
        return ranges.stream().anyMatch(r -> r.contains(p));
    }

    @Test
    void aRangeExcludesItsStartAndIncludesItsEnd() {
        var s = of(new RingRange(10, 20));
        assertThat(s.contains(10)).isFalse();
        assertThat(s.contains(11)).isTrue();
        assertThat(s.contains(20)).isTrue();
        assertThat(s.contains(21)).isFalse();
        assertThat(s.contains(0)).isFalse();
        assertThat(s.contains(TOP)).isFalse();
        assertThat(s.size()).isEqualTo(1);
    }

    @Test
    void aWrappingRangeHoldsTheTopAndZeroAsTwoIntervals() {
        var s = of(new RingRange(-10L, 10L));
        assertThat(s.size()).as("split at the top of the ring").isEqualTo(2);
        assertThat(s.contains(-10L)).as("start excluded").isFalse();
        assertThat(s.contains(-9L)).isTrue();
        assertThat(s.contains(TOP)).isTrue();
        assertThat(s.contains(0)).isTrue();
        assertThat(s.contains(10)).as("end included").isTrue();
        assertThat(s.contains(11)).isFalse();
        assertThat(s.contains(Long.MAX_VALUE)).isFalse();
        assertThat(s.contains(Long.MIN_VALUE)).isFalse();
        assertThat(s.share()).isCloseTo(20 / 0x1p64, within(1e-30));
        assertThat(s.ranges()).containsExactly(new RingRange(-1L, 10), new RingRange(-10L, TOP));
        assertThat(RangeSet.of(s.ranges())).isEqualTo(s);
    }

    @Test
    void rangesEndingAtTheTopOrStartingFromItAreOneInterval() {
        var toTop = of(new RingRange(5, TOP));
        assertThat(toTop.size()).isEqualTo(1);
        assertThat(toTop.contains(TOP)).isTrue();
        assertThat(toTop.contains(6)).isTrue();
        assertThat(toTop.contains(5)).isFalse();
        assertThat(toTop.contains(0)).isFalse();

        var fromTop = of(new RingRange(TOP, 5)); // (top, 5] = [0, 5]
        assertThat(fromTop.size()).isEqualTo(1);
        assertThat(fromTop.contains(0)).isTrue();
        assertThat(fromTop.contains(5)).isTrue();
        assertThat(fromTop.contains(TOP)).isFalse();
        assertThat(fromTop.contains(6)).isFalse();

        assertThat(toTop.union(fromTop)).isEqualTo(RangeSet.all());
    }

    @Test
    void startEqualToEndIsTheWholeRing() {
        for (long x : new long[] {0, 42, TOP, Long.MIN_VALUE}) {
            var s = of(new RingRange(x, x));
            assertThat(s).as("(%d, %d]", x, x).isEqualTo(RangeSet.all());
            assertThat(s.contains(0)).isTrue();
            assertThat(s.contains(TOP)).isTrue();
            assertThat(s.contains(x)).isTrue();
            assertThat(s.share()).isEqualTo(1.0);
            assertThat(s.ranges()).containsExactly(new RingRange(0, 0));
        }
        assertThat(of(new RingRange(10, 20), new RingRange(7, 7))).as("whole ring with anything").isEqualTo(RangeSet.all());
        assertThat(RangeSet.all().size()).isEqualTo(1);
        assertThat(RangeSet.all().isEmpty()).isFalse();
    }

    @Test
    void rangesCoveringTheRingWithoutOverlapMergeIntoTheWholeRing() {
        assertThat(of(new RingRange(TOP, 10), new RingRange(10, TOP))).isEqualTo(RangeSet.all());
        assertThat(of(new RingRange(100, 10), new RingRange(10, 100))).isEqualTo(RangeSet.all());
        assertThat(of(new RingRange(0, 1L << 62), new RingRange(1L << 62, 0))).isEqualTo(RangeSet.all());
    }

    @Test
    void theEmptySetHoldsNothing() {
        var e = RangeSet.of(List.of());
        assertThat(e).isEqualTo(RangeSet.empty());
        assertThat(e.isEmpty()).isTrue();
        assertThat(e.size()).isZero();
        assertThat(e.contains(0)).isFalse();
        assertThat(e.contains(TOP)).isFalse();
        assertThat(e.share()).isZero();
        assertThat(e.ranges()).isEmpty();
        assertThat(RangeSet.of(e.ranges())).isEqualTo(e);
    }

    @Test
    void adjacentAndOverlappingRangesMerge() {
        assertThat(of(new RingRange(0, 10), new RingRange(10, 20))).isEqualTo(of(new RingRange(0, 20)));
        assertThat(of(new RingRange(10, 20), new RingRange(0, 10))).isEqualTo(of(new RingRange(0, 20)));
        assertThat(of(new RingRange(0, 15), new RingRange(5, 20))).isEqualTo(of(new RingRange(0, 20)));
        assertThat(of(new RingRange(0, 20), new RingRange(5, 10))).isEqualTo(of(new RingRange(0, 20)));
        assertThat(of(new RingRange(0, 10), new RingRange(11, 20)).size()).as("a gap of one position").isEqualTo(2);
        assertThat(of(new RingRange(0, 10), new RingRange(11, 20)).contains(11)).isFalse();
        // the top and zero are adjacent positions of the ring, but the intervals are kept apart at the top
        assertThat(of(new RingRange(-5L, TOP), new RingRange(TOP, 5)).size()).isEqualTo(2);
        assertThat(of(new RingRange(-5L, TOP), new RingRange(TOP, 5))).isEqualTo(of(new RingRange(-5L, 5)));
    }

    @Test
    void containsAgreesWithTheRingRangesItWasBuiltFrom() {
        var rnd = new Random(1);
        for (int round = 0; round < 300; round++) {
            var ranges = randomRanges(rnd, 1 + rnd.nextInt(6));
            var set = RangeSet.of(ranges);
            for (long p : probes(rnd, ranges)) {
                assertThat(set.contains(p)).as("%s contains %s", ranges, Long.toUnsignedString(p))
                        .isEqualTo(anyContains(ranges, p));
            }
        }
    }

    @Test
    void rangesRoundTrip() {
        var rnd = new Random(2);
        for (int round = 0; round < 1_000; round++) {
            var set = RangeSet.of(randomRanges(rnd, rnd.nextInt(8)));
            assertThat(RangeSet.of(set.ranges())).as("round %d: %s", round, set.ranges()).isEqualTo(set);
            if (!set.equals(RangeSet.all())) assertThat(set.ranges()).hasSize(set.size());
        }
        for (var set : List.of(RangeSet.all(), RangeSet.empty(), of(new RingRange(TOP, 0)), of(new RingRange(-2L, TOP)),
                of(new RingRange(TOP, 5), new RingRange(9, TOP)), of(new RingRange(0, TOP)))) {
            assertThat(RangeSet.of(set.ranges())).as("%s", set.ranges()).isEqualTo(set);
        }
    }

    @Test
    void minusKeepsExactlyThePositionsNotInTheOther() {
        var rnd = new Random(3);
        for (int round = 0; round < 500; round++) {
            var ra = randomRanges(rnd, rnd.nextInt(6));
            var rb = randomRanges(rnd, rnd.nextInt(6));
            var a = RangeSet.of(ra);
            var b = RangeSet.of(rb);
            var d = a.minus(b);
            var all = new ArrayList<>(ra);
            all.addAll(rb);
            for (long p : probes(rnd, all)) {
                assertThat(d.contains(p)).as("%s minus %s at %s", ra, rb, Long.toUnsignedString(p))
                        .isEqualTo(a.contains(p) && !b.contains(p));
            }
            assertThat(RangeSet.of(d.ranges())).isEqualTo(d);
        }
    }

    @Test
    void minusAtTheEdgesOfTheRing() {
        var s = of(new RingRange(10, 20));
        assertThat(s.minus(s)).isEqualTo(RangeSet.empty());
        assertThat(s.minus(RangeSet.empty())).isEqualTo(s);
        assertThat(RangeSet.empty().minus(s)).isEqualTo(RangeSet.empty());
        assertThat(s.minus(RangeSet.all())).isEqualTo(RangeSet.empty());

        var rest = RangeSet.all().minus(s);
        assertThat(rest).isEqualTo(of(new RingRange(20, 10)));
        assertThat(rest.contains(10)).isTrue();
        assertThat(rest.contains(11)).isFalse();
        assertThat(rest.contains(20)).isFalse();
        assertThat(rest.contains(21)).isTrue();
        assertThat(rest.contains(0)).isTrue();
        assertThat(rest.contains(TOP)).isTrue();

        var withoutTop = of(new RingRange(5, TOP)).minus(of(new RingRange(-2L, TOP)));
        assertThat(withoutTop).isEqualTo(of(new RingRange(5, -2L)));
        assertThat(withoutTop.contains(TOP)).isFalse();
        assertThat(withoutTop.contains(-2L)).isTrue();

        var withoutZero = RangeSet.all().minus(of(new RingRange(TOP, 0)));
        assertThat(withoutZero.contains(0)).isFalse();
        assertThat(withoutZero.contains(1)).isTrue();
        assertThat(withoutZero.contains(TOP)).isTrue();
        assertThat(withoutZero).isEqualTo(of(new RingRange(0, TOP)));

        var middle = RangeSet.all().minus(of(new RingRange(TOP, 0))).minus(of(new RingRange(-2L, TOP)));
        assertThat(middle).isEqualTo(of(new RingRange(0, -2L)));
    }

    @Test
    void unionHoldsThePositionsOfEither() {
        var rnd = new Random(4);
        for (int round = 0; round < 500; round++) {
            var ra = randomRanges(rnd, rnd.nextInt(6));
            var rb = randomRanges(rnd, rnd.nextInt(6));
            var a = RangeSet.of(ra);
            var b = RangeSet.of(rb);
            var u = a.union(b);
            var all = new ArrayList<>(ra);
            all.addAll(rb);
            assertThat(u).isEqualTo(RangeSet.of(all)).isEqualTo(b.union(a));
            for (long p : probes(rnd, all)) {
                assertThat(u.contains(p)).isEqualTo(a.contains(p) || b.contains(p));
            }
            assertThat(a.minus(b).union(b)).isEqualTo(u);
            assertThat(u.share()).isCloseTo(a.share() + b.minus(a).share(), within(1e-9));
        }
        var s = of(new RingRange(10, 20));
        assertThat(s.union(RangeSet.empty())).isEqualTo(s);
        assertThat(s.union(RangeSet.all())).isEqualTo(RangeSet.all());
        assertThat(s.union(RangeSet.all().minus(s))).isEqualTo(RangeSet.all());
    }

    @Test
    void shareIsTheFractionOfTheRingCovered() {
        assertThat(RangeSet.all().share()).isEqualTo(1.0);
        assertThat(RangeSet.empty().share()).isEqualTo(0.0);
        assertThat(of(new RingRange(0, 1L << 62)).share()).isEqualTo(0.25);
        assertThat(of(new RingRange(-(1L << 62), 1L << 62)).share()).as("wrapping").isEqualTo(0.5);
        assertThat(of(new RingRange(Long.MAX_VALUE, TOP)).share()).as("the upper half").isEqualTo(0.5);
        assertThat(of(new RingRange(TOP, 0)).share()).as("one position").isEqualTo(0x1p-64);

        var rnd = new Random(5);
        for (int round = 0; round < 200; round++) {
            var a = RangeSet.of(randomRanges(rnd, rnd.nextInt(6)));
            assertThat(a.share()).isBetween(0.0, 1.0);
            assertThat(a.share() + RangeSet.all().minus(a).share()).isCloseTo(1.0, within(1e-9));
        }

        var ring = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), 64);
        ring.ranges().forEach((shard, rs) ->
                assertThat(RangeSet.of(rs).share()).as(shard).isCloseTo(ring.shares().get(shard), within(1e-12)));
    }

    @Test
    void aRingsRangesPerShardPartitionTheRing() {
        var ring = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), 64);
        var sets = ring.ranges().values().stream().map(RangeSet::of).toList();
        var union = sets.stream().reduce(RangeSet.empty(), RangeSet::union);
        assertThat(union).isEqualTo(RangeSet.all());
        for (int i = 0; i < sets.size(); i++) {
            for (int j = 0; j < sets.size(); j++) {
                if (i != j) assertThat(sets.get(i).minus(sets.get(j))).isEqualTo(sets.get(i));
            }
        }
    }
}
