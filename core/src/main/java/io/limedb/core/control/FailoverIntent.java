package io.limedb.core.control;

import java.util.Objects;

/**
 * A shard's failover in progress, recorded in the store before each action so that a controller
 * restarted at any step resumes it instead of starting over. Its epoch is used for nothing before it
 * is recorded, and never again after the failover it belongs to.
 *
 * @param epoch               the new epoch: members are fenced at it, the new primary promoted at it
 * @param phase               how far the failover got
 * @param newPrimary          in {@code PROMOTING}, the member chosen; "" in {@code FENCING}
 * @param expectedLossRecords in {@code PROMOTING}, acknowledged records the chosen member may lack
 */
public record FailoverIntent(long epoch, Phase phase, String newPrimary, long expectedLossRecords) {

    public enum Phase {
        /** Fence every reachable member at the epoch, then choose from the fenced answers. */
        FENCING,
        /** Promote {@code newPrimary} at the epoch, then publish the topology. */
        PROMOTING
    }

    public FailoverIntent {
        Objects.requireNonNull(phase, "phase");
        newPrimary = newPrimary == null ? "" : newPrimary;
        if (epoch < 1) throw new IllegalArgumentException("a failover epoch must be >= 1, was " + epoch);
        if (phase == Phase.PROMOTING && newPrimary.isBlank()) {
            throw new IllegalArgumentException("a promoting failover at epoch " + epoch + " must name its new primary");
        }
        if (phase == Phase.FENCING && !newPrimary.isEmpty()) {
            throw new IllegalArgumentException("a fencing failover at epoch " + epoch + " has not chosen a primary yet");
        }
        if (expectedLossRecords < 0) throw new IllegalArgumentException("expectedLossRecords must be >= 0");
    }

    public static FailoverIntent fencing(long epoch) {
        return new FailoverIntent(epoch, Phase.FENCING, "", 0);
    }

    public static FailoverIntent promoting(long epoch, String newPrimary, long expectedLossRecords) {
        return new FailoverIntent(epoch, Phase.PROMOTING, newPrimary, expectedLossRecords);
    }
}
