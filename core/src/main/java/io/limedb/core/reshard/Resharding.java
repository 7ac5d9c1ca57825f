package io.limedb.core.reshard;

import io.limedb.core.ring.Ownership.Pair;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A resharding in progress, as recorded in the topology store: each move's phase and how much it
 * copied. Which ranges a move carries is not recorded: the plan between the two rings gives them.
 */
public record Resharding(Map<Pair, Move> moves) {

    public enum Phase {
        /** The target copies the ranges from the source and catches up with the writes since. */
        COPYING,
        /** The source stops owning the ranges, the target catches up to that point and takes them. */
        FLIPPING,
        /** Ownership flipped to the target (published); the source still holds the data. */
        FLIPPED,
        /** The source dropped the ranges (a replicated range delete): the move is over. */
        DONE
    }

    /** One move's progress: its phase, the ranges it carries, what the target copied so far. */
    public record Move(Phase phase, int ranges, long keys, long bytes) {
        public Move {
            Objects.requireNonNull(phase, "phase");
        }

        public Move with(Phase p) {
            return new Move(p, ranges, keys, bytes);
        }

        public Move copied(long k, long b) {
            return new Move(phase, ranges, k, b);
        }
    }

    public Resharding {
        moves = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(moves));
    }

    /** The moves of a plan, all copying. */
    public static Resharding start(ReshardPlan plan) {
        var m = new LinkedHashMap<Pair, Move>();
        plan.moves().forEach((pair, ranges) -> m.put(pair, new Move(Phase.COPYING, ranges.size(), 0, 0)));
        return new Resharding(m);
    }

    public Resharding with(Pair pair, Move move) {
        var m = new LinkedHashMap<>(moves);
        m.put(pair, move);
        return new Resharding(m);
    }

    public boolean done() {
        return moves.values().stream().allMatch(m -> m.phase() == Phase.DONE);
    }

    public int totalRanges() {
        return moves.values().stream().mapToInt(Move::ranges).sum();
    }

    /** Ranges whose ownership flipped. */
    public int movedRanges() {
        return moves.values().stream().filter(m -> m.phase() == Phase.FLIPPED || m.phase() == Phase.DONE).mapToInt(Move::ranges).sum();
    }

    public long keys() {
        return moves.values().stream().mapToLong(Move::keys).sum();
    }

    public long bytes() {
        return moves.values().stream().mapToLong(Move::bytes).sum();
    }
}
