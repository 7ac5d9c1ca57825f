package io.limedb.core.ring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A set of ring positions as sorted, disjoint, non-wrapping intervals [lo, hi] (unsigned, both
 * inclusive): what a shard owns. A lookup is a binary search. Built from {@link RingRange}s, which may
 * wrap; {@link #ranges()} gives them back merged.
 */
public final class RangeSet {
    private static final RangeSet EMPTY = new RangeSet(new long[0], new long[0]);
    private static final RangeSet ALL = new RangeSet(new long[] {0}, new long[] {-1L});

    private final long[] lo;
    private final long[] hi;

    private RangeSet(long[] lo, long[] hi) {
        this.lo = lo;
        this.hi = hi;
    }

    public static RangeSet empty() {
        return EMPTY;
    }

    public static RangeSet all() {
        return ALL;
    }

    public static RangeSet of(List<RingRange> ranges) {
        var iv = new ArrayList<long[]>();
        for (RingRange r : ranges) {
            long s = r.startExclusive(), e = r.endInclusive();
            if (s == e) return ALL;
            if (Long.compareUnsigned(s, e) < 0) {
                iv.add(new long[] {s + 1, e});
            } else {
                if (s != -1L) iv.add(new long[] {s + 1, -1L});
                iv.add(new long[] {0, e});
            }
        }
        iv.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        var merged = new ArrayList<long[]>();
        for (long[] i : iv) {
            if (!merged.isEmpty()) {
                long[] last = merged.get(merged.size() - 1);
                // overlapping or adjacent (last.hi + 1 == i.lo, without overflow past the top)
                if (Long.compareUnsigned(i[0], last[1]) <= 0 || (last[1] != -1L && last[1] + 1 == i[0])) {
                    if (Long.compareUnsigned(i[1], last[1]) > 0) last[1] = i[1];
                    continue;
                }
            }
            merged.add(new long[] {i[0], i[1]});
        }
        long[] lo = new long[merged.size()], hi = new long[merged.size()];
        for (int k = 0; k < merged.size(); k++) {
            lo[k] = merged.get(k)[0];
            hi[k] = merged.get(k)[1];
        }
        return new RangeSet(lo, hi);
    }

    public boolean contains(long position) {
        int a = 0, b = lo.length - 1;
        while (a <= b) {
            int mid = (a + b) >>> 1;
            if (Long.compareUnsigned(position, lo[mid]) < 0) b = mid - 1;
            else if (Long.compareUnsigned(position, hi[mid]) > 0) a = mid + 1;
            else return true;
        }
        return false;
    }

    public boolean isEmpty() {
        return lo.length == 0;
    }

    /** Number of intervals (a range wrapping past the top counts as two). */
    public int size() {
        return lo.length;
    }

    /** The set as ring ranges (startExclusive, endInclusive]; an interval starting at 0 is (-1, hi]... */
    public List<RingRange> ranges() {
        if (lo.length == 1 && lo[0] == 0 && hi[0] == -1L) return List.of(new RingRange(0, 0));
        var out = new ArrayList<RingRange>(lo.length);
        for (int k = 0; k < lo.length; k++) out.add(new RingRange(lo[k] - 1, hi[k]));
        return out;
    }

    /** Positions in this set and not in {@code other}. */
    public RangeSet minus(RangeSet other) {
        var out = new ArrayList<RingRange>();
        for (int k = 0; k < lo.length; k++) {
            long start = lo[k];
            boolean open = true;
            for (int j = 0; j < other.lo.length && open; j++) {
                if (Long.compareUnsigned(other.hi[j], start) < 0) continue;
                if (Long.compareUnsigned(other.lo[j], hi[k]) > 0) break;
                if (Long.compareUnsigned(other.lo[j], start) > 0) out.add(interval(start, other.lo[j] - 1));
                if (other.hi[j] == -1L || Long.compareUnsigned(other.hi[j], hi[k]) >= 0) open = false;
                else start = other.hi[j] + 1;
            }
            if (open) out.add(interval(start, hi[k]));
        }
        return of(out);
    }

    public RangeSet union(RangeSet other) {
        var all = new ArrayList<>(ranges());
        all.addAll(other.ranges());
        return of(all);
    }

    /** Fraction of the ring covered. */
    public double share() {
        double s = 0;
        for (int k = 0; k < lo.length; k++) s += (RingRange.unsignedToDouble(hi[k] - lo[k]) + 1) / 0x1p64;
        return s;
    }

    private static RingRange interval(long loIncl, long hiIncl) {
        if (loIncl == 0 && hiIncl == -1L) return new RingRange(0, 0);
        return new RingRange(loIncl - 1, hiIncl);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RangeSet r && Arrays.equals(lo, r.lo) && Arrays.equals(hi, r.hi);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(lo) * 31 + Arrays.hashCode(hi);
    }

    @Override
    public String toString() {
        return "RangeSet[" + lo.length + " intervals, " + String.format("%.1f%%", share() * 100) + "]";
    }
}
