package io.limedb.core.ring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who owns each ring position, at one ring version. Outside a resharding, the ring of {@code shards}
 * decides. During one, {@code next} is the ring being moved to, and a position whose owner differs
 * between the two rings belongs to its new owner only once the move between that pair of shards has
 * flipped (its pair is in {@code flipped}): data moves first, ownership after, one pair at a time.
 * The version grows with every flip, so a request routed by an older version is recognisable.
 */
public final class Ownership {
    private final long version;
    private final int vnodes;
    private final List<String> shards;
    private final List<String> next;
    private final Set<Pair> flipped;
    private final HashRing ring;
    private final HashRing nextRing;

    /** A move's two ends: ranges go from source to target. */
    public record Pair(String source, String target) {
        public Pair {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
            if (source.equals(target)) throw new IllegalArgumentException("a move needs two different shards");
        }

        /** "source>target", as the topology file spells it. */
        @Override
        public String toString() {
            return source + ">" + target;
        }

        public static Pair parse(String s) {
            int i = s == null ? -1 : s.indexOf('>');
            if (i <= 0 || i == s.length() - 1) {
                throw new IllegalArgumentException("a moved pair is written source>target, got '" + s + "'");
            }
            return new Pair(s.substring(0, i), s.substring(i + 1));
        }
    }

    public Ownership(long version, int vnodes, List<String> shards, List<String> next, Set<Pair> flipped) {
        if (version < 1) throw new IllegalArgumentException("ring version must be >= 1, got " + version);
        this.version = version;
        this.vnodes = vnodes;
        this.shards = List.copyOf(shards);
        this.next = next == null ? List.of() : List.copyOf(next);
        this.flipped = Set.copyOf(flipped == null ? Set.of() : flipped);
        this.ring = HashRing.of(this.shards, vnodes);
        this.nextRing = this.next.isEmpty() ? null : HashRing.of(this.next, vnodes);
        if (nextRing == null && !this.flipped.isEmpty()) {
            throw new IllegalArgumentException("moved pairs recorded without a ring being moved to");
        }
    }

    /** The settled ring of these shards at version 1. */
    public static Ownership of(List<String> shards, int vnodes) {
        return new Ownership(1, vnodes, shards, List.of(), Set.of());
    }

    public long version() {
        return version;
    }

    public int vnodes() {
        return vnodes;
    }

    /** The ring in force (before a resharding completes). */
    public List<String> shards() {
        return shards;
    }

    /** The ring being moved to, empty when none. */
    public List<String> next() {
        return next;
    }

    public Set<Pair> flipped() {
        return flipped;
    }

    public boolean resharding() {
        return nextRing != null;
    }

    public HashRing ring() {
        return ring;
    }

    /** The ring moved to, or the ring in force when there is no resharding. */
    public HashRing target() {
        return nextRing == null ? ring : nextRing;
    }

    /** Every shard that owns or will own part of the ring. */
    public List<String> allShards() {
        var all = new LinkedHashSet<>(shards);
        all.addAll(next);
        return List.copyOf(all);
    }

    /** The owner of a ring position at this version. */
    public String ownerOf(long position) {
        String old = ring.shards().get(ring.ownerIndexOf(position));
        if (nextRing == null || flipped.isEmpty()) return old;
        String neu = nextRing.shards().get(nextRing.ownerIndexOf(position));
        return !old.equals(neu) && flipped.contains(new Pair(old, neu)) ? neu : old;
    }

    /** This ownership with one more pair flipped, at the next version. */
    public Ownership flip(Pair pair) {
        if (nextRing == null) throw new IllegalStateException("no resharding in progress");
        var f = new LinkedHashSet<>(flipped);
        f.add(pair);
        return new Ownership(version + 1, vnodes, shards, next, f);
    }

    /** A resharding towards {@code nextShards} begins (the owners do not change yet). */
    public Ownership begin(List<String> nextShards) {
        return new Ownership(version, vnodes, shards, nextShards, Set.of());
    }

    /** The resharding is done: the next ring is the ring, at the next version. */
    public Ownership settle() {
        if (nextRing == null) return this;
        return new Ownership(version + 1, vnodes, next, List.of(), Set.of());
    }

    /**
     * The positions each shard owns at this version, for every shard of either ring. Computed over the
     * points of both rings: between two consecutive points, the owner does not change.
     */
    public Map<String, RangeSet> ranges() {
        var out = new LinkedHashMap<String, List<RingRange>>();
        allShards().forEach(s -> out.put(s, new ArrayList<>()));
        long[] points = points();
        if (points.length == 1 || allShards().size() == 1 && !resharding()) {
            out.get(ring.shards().get(0)).add(new RingRange(0, 0));
        } else {
            int n = points.length;
            for (int i = 0; i < n; i++) {
                long start = points[(i - 1 + n) % n];
                out.get(ownerOf(points[i])).add(new RingRange(start, points[i]));
            }
        }
        var sets = new LinkedHashMap<String, RangeSet>();
        out.forEach((s, rs) -> sets.put(s, RangeSet.of(rs)));
        return sets;
    }

    /** The positions of one shard at this version. */
    public RangeSet rangesOf(String shard) {
        return ranges().getOrDefault(shard, RangeSet.empty());
    }

    /** The vnode points of both rings, sorted unsigned, without duplicates. */
    long[] points() {
        return HashRing.mergedPoints(ring, nextRing == null ? ring : nextRing);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ownership w && w.version == version && w.vnodes == vnodes && w.shards.equals(shards)
                && w.next.equals(next) && w.flipped.equals(flipped);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, vnodes, shards, next, flipped);
    }

    @Override
    public String toString() {
        return "ring v" + version + " " + shards + (nextRing == null ? "" : " -> " + next + " flipped " + flipped);
    }
}
