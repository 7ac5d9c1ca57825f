package io.limedb.core.failover;

import io.limedb.core.topology.ReplicationMode;
import java.util.Objects;

/**
 * The shard's replication settings that bound what a failover may promote.
 *
 * @param mode               how writes are acknowledged: {@code SYNC} or {@code ASYNC}
 * @param minInSync          members (primary included) that hold a write before the primary
 *                           acknowledges it in {@code SYNC} mode; at least 1
 * @param maxAsyncLagRecords in {@code ASYNC} mode, the largest loss window (records) a failover may
 *                           accept without {@code force}
 * @param force              promote even when that may lose acknowledged writes: over the lag limit
 *                           in {@code ASYNC} mode, or with too few fenced, caught-up answers in
 *                           {@code SYNC} mode; the expected loss is reported
 */
public record FailoverPolicy(ReplicationMode mode, int minInSync, long maxAsyncLagRecords, boolean force) {

    public FailoverPolicy {
        Objects.requireNonNull(mode, "mode must not be null");
        if (mode == ReplicationMode.NONE) {
            throw new IllegalArgumentException("a standalone shard (replication mode none) has no failover");
        }
        if (minInSync < 1) {
            throw new IllegalArgumentException("minInSync must be >= 1, was " + minInSync);
        }
        if (maxAsyncLagRecords < 0) {
            throw new IllegalArgumentException("maxAsyncLagRecords must be >= 0, was " + maxAsyncLagRecords);
        }
    }

    /** A {@code SYNC} policy that never forces. */
    public static FailoverPolicy sync(int minInSync) {
        return new FailoverPolicy(ReplicationMode.SYNC, minInSync, 0, false);
    }

    /** An {@code ASYNC} policy that never forces. */
    public static FailoverPolicy async(long maxAsyncLagRecords) {
        return new FailoverPolicy(ReplicationMode.ASYNC, 1, maxAsyncLagRecords, false);
    }

    /** This policy with {@code force} set. */
    public FailoverPolicy forced() {
        return new FailoverPolicy(mode, minInSync, maxAsyncLagRecords, true);
    }

    /**
     * Fenced, caught-up answers a {@code SYNC} failover needs among {@code members}: every write was
     * acknowledged by minInSync members, so any members - minInSync + 1 of them include one holding it.
     */
    public int answersNeeded(int members) {
        return Math.max(1, members - minInSync + 1);
    }
}
