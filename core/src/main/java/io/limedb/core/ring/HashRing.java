package io.limedb.core.ring;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Consistent-hash ring with virtual nodes: each shard owns {@code vnodes} points, and a key belongs
 * to the shard of the first point at or after the key's position (wrapping). Immutable; building
 * one costs O(shards * vnodes * log), a lookup is a binary search.
 */
public final class HashRing {
    /** Default virtual nodes per shard: enough for every shard to own 1/N +/- a few percent. */
    public static final int DEFAULT_VNODES = 256;

    private final List<String> shards;
    private final int vnodes;
    private final long[] points;    // sorted unsigned
    private final int[] owners;     // owners[i] = index into shards of points[i]

    private HashRing(List<String> shards, int vnodes, long[] points, int[] owners) {
        this.shards = shards;
        this.vnodes = vnodes;
        this.points = points;
        this.owners = owners;
    }

    public static HashRing of(List<String> shardIds, int vnodes) {
        Objects.requireNonNull(shardIds, "shardIds");
        if (shardIds.isEmpty()) throw new IllegalArgumentException("a ring needs at least one shard");
        if (vnodes < 1 || vnodes > 65_536) {
            throw new IllegalArgumentException("vnodes must be in [1, 65536], got " + vnodes);
        }
        if (shardIds.stream().distinct().count() != shardIds.size()) {
            throw new IllegalArgumentException("duplicate shard id in " + shardIds);
        }
        record Point(long pos, int owner, String shard) {}
        var all = new ArrayList<Point>(shardIds.size() * vnodes);
        for (int s = 0; s < shardIds.size(); s++) {
            String id = shardIds.get(s);
            for (int v = 0; v < vnodes; v++) {
                all.add(new Point(vnodePosition(id, v), s, id));
            }
        }
        // Ties (astronomically rare) are broken by shard id so every node builds the same ring.
        all.sort(Comparator.<Point>comparingLong(p -> p.pos() ^ Long.MIN_VALUE).thenComparing(Point::shard));
        long[] points = new long[all.size()];
        int[] owners = new int[all.size()];
        for (int i = 0; i < all.size(); i++) {
            points[i] = all.get(i).pos();
            owners[i] = all.get(i).owner();
        }
        return new HashRing(List.copyOf(shardIds), vnodes, points, owners);
    }

    /** Ring position of the v-th virtual node of a shard. */
    public static long vnodePosition(String shardId, int v) {
        return KeyHash.of((shardId + "#" + v).getBytes(StandardCharsets.UTF_8));
    }

    public List<String> shards() {
        return shards;
    }

    public int vnodes() {
        return vnodes;
    }

    /** Index (into {@link #shards()}) of the shard that owns a ring position. */
    public int ownerIndexOf(long position) {
        int lo = 0, hi = points.length - 1, found = 0;
        if (Long.compareUnsigned(position, points[hi]) > 0) return owners[0]; // wraps to the first point
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(points[mid], position) >= 0) {
                found = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return owners[found];
    }

    public String ownerOf(byte[] key) {
        return shards.get(ownerIndexOf(KeyHash.of(key)));
    }

    /** The ranges each shard owns, merged where adjacent, in ring order. */
    public Map<String, List<RingRange>> ranges() {
        var out = new LinkedHashMap<String, List<RingRange>>();
        shards.forEach(s -> out.put(s, new ArrayList<>()));
        if (shards.size() == 1) {
            out.get(shards.get(0)).add(new RingRange(0, 0));
            return out;
        }
        int n = points.length;
        for (int i = 0; i < n; i++) {
            long start = points[(i - 1 + n) % n];
            var list = out.get(shards.get(owners[i]));
            if (!list.isEmpty() && list.get(list.size() - 1).endInclusive() == start) {
                var last = list.remove(list.size() - 1);
                list.add(new RingRange(last.startExclusive(), points[i]));
            } else {
                list.add(new RingRange(start, points[i]));
            }
        }
        return out;
    }

    /**
     * The vnode points of two rings, sorted unsigned, without duplicates: between two consecutive
     * points neither ring changes owner. A merge of the rings' sorted points (nothing is hashed again).
     */
    public static long[] mergedPoints(HashRing a, HashRing b) {
        long[] x = a.points, y = b.points;
        long[] out = new long[x.length + y.length];
        int i = 0, j = 0, n = 0;
        while (i < x.length || j < y.length) {
            long next;
            if (j >= y.length || (i < x.length && Long.compareUnsigned(x[i], y[j]) <= 0)) next = x[i++];
            else next = y[j++];
            if (n == 0 || out[n - 1] != next) out[n++] = next;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Fraction of the keyspace each shard owns; the values sum to 1. */
    public Map<String, Double> shares() {
        var out = new LinkedHashMap<String, Double>();
        ranges().forEach((shard, rs) -> out.put(shard, rs.stream().mapToDouble(RingRange::share).sum()));
        return out;
    }

    @Override
    public String toString() {
        return "HashRing" + shards + " x " + vnodes + " vnodes (" + Arrays.stream(points).count() + " points)";
    }
}
