package io.limedb.core.reshard;

import io.limedb.core.ring.HashRing;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.core.ring.RangeSet;
import io.limedb.core.ring.RingRange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a change of ring moves: for each pair of shards, the ring ranges whose owner is the source in
 * the old ring and the target in the new one. Ranges whose owner stays are not in the plan.
 */
public record ReshardPlan(List<String> from, List<String> to, Map<Pair, RangeSet> moves) {

    public ReshardPlan {
        from = List.copyOf(from);
        to = List.copyOf(to);
        moves = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(moves));
    }

    /** The plan from the ring of {@code from} to the ring of {@code to}, both with {@code vnodes}. */
    public static ReshardPlan between(List<String> from, List<String> to, int vnodes) {
        if (to.isEmpty()) throw new IllegalArgumentException("the new ring needs at least one shard");
        HashRing a = HashRing.of(from, vnodes), b = HashRing.of(to, vnodes);
        long[] p = HashRing.mergedPoints(a, b);
        var byPair = new LinkedHashMap<Pair, List<RingRange>>();
        for (int i = 0; i < p.length; i++) {
            long start = p[(i - 1 + p.length) % p.length];
            String src = a.shards().get(a.ownerIndexOf(p[i]));
            String dst = b.shards().get(b.ownerIndexOf(p[i]));
            if (src.equals(dst)) continue;
            byPair.computeIfAbsent(new Pair(src, dst), k -> new ArrayList<>())
                    .add(p.length == 1 ? new RingRange(0, 0) : new RingRange(start, p[i]));
        }
        var moves = new LinkedHashMap<Pair, RangeSet>();
        byPair.entrySet().stream()
                .sorted(java.util.Comparator.comparing((Map.Entry<Pair, List<RingRange>> e) -> e.getKey().source())
                        .thenComparing(e -> e.getKey().target()))
                .forEach(e -> moves.put(e.getKey(), RangeSet.of(e.getValue())));
        return new ReshardPlan(from, to, moves);
    }

    /** Number of ring ranges that change owner. */
    public int rangeCount() {
        return moves.values().stream().mapToInt(RangeSet::size).sum();
    }

    /** Fraction of the ring that changes owner. */
    public double share() {
        return moves.values().stream().mapToDouble(RangeSet::share).sum();
    }
}
