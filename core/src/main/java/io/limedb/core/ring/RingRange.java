package io.limedb.core.ring;

/**
 * A range of ring positions (startExclusive, endInclusive], compared unsigned; it wraps past the
 * top of the ring when end <= start. start == end denotes the whole ring.
 */
public record RingRange(long startExclusive, long endInclusive) {

    public boolean contains(long position) {
        if (startExclusive == endInclusive) return true;
        if (Long.compareUnsigned(startExclusive, endInclusive) < 0) {
            return Long.compareUnsigned(position, startExclusive) > 0
                    && Long.compareUnsigned(position, endInclusive) <= 0;
        }
        return Long.compareUnsigned(position, startExclusive) > 0
                || Long.compareUnsigned(position, endInclusive) <= 0;
    }

    /** Fraction of the whole ring this range covers, in [0, 1]. */
    public double share() {
        if (startExclusive == endInclusive) return 1.0;
        long width = endInclusive - startExclusive; // modular arithmetic handles wrap-around
        return unsignedToDouble(width) / 0x1p64;
    }

    static double unsignedToDouble(long v) {
        double d = (double) (v >>> 1) * 2.0;
        return d + (v & 1);
    }
}
