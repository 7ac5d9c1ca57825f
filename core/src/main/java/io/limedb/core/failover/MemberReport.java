package io.limedb.core.failover;

import io.limedb.core.topology.ReplicationMode;
import io.limedb.core.topology.Role;
import java.util.Comparator;
import java.util.Objects;

/**
 * What one shard member says about itself, in answer to a status probe or a fence.
 *
 * @param memberId   stable member name, e.g. {@code shard-0-1}
 * @param role       the role it plays now
 * @param epoch      the highest epoch it has persisted
 * @param lastEpoch  epoch of the last record it applied (0: none)
 * @param lastSeq    seq of the last record it applied (0: none)
 * @param storageId  identity of its storage: a member whose data was wiped comes back with a new one
 * @param caughtUp   whether its storage has held everything its primary had committed; false from
 *                   the storage's creation until it caught up once, and then its position proves
 *                   nothing about acknowledged writes
 * @param following  the member it replicates from, or "" when it follows nobody
 * @param lagRecords how far behind its primary it last heard it was (records)
 * @param lagMs      age of the newest record it has not applied yet
 * @param serving    a primary: it serves (false while it waits out its predecessor's read lease)
 * @param inSyncReplicas a primary: the replicas it counts in sync now (a sync write needs minInSync-1)
 */
public record MemberReport(String memberId, Role role, long epoch, long lastEpoch, long lastSeq, String storageId,
        boolean caughtUp, String following, long lagRecords, long lagMs, boolean serving, int inSyncReplicas) {

    /** Most caught-up first: by (lastEpoch, lastSeq) descending, then the lowest member id. */
    public static final Comparator<MemberReport> MOST_CAUGHT_UP_FIRST =
            Comparator.comparingLong(MemberReport::lastEpoch).reversed()
                    .thenComparing(Comparator.comparingLong(MemberReport::lastSeq).reversed())
                    .thenComparing(MemberReport::memberId);

    public MemberReport {
        if (memberId == null || memberId.isBlank()) throw new IllegalArgumentException("memberId must not be blank");
        Objects.requireNonNull(role, () -> "role of member " + memberId);
        storageId = storageId == null ? "" : storageId;
        following = following == null ? "" : following;
        if (epoch < 0 || lastEpoch < 0 || lastSeq < 0 || lagRecords < 0 || lagMs < 0 || inSyncReplicas < 0) {
            throw new IllegalArgumentException("member " + memberId + " reported a negative epoch, seq, lag or count");
        }
    }

    public boolean isPrimaryAt(long e) {
        return role == Role.PRIMARY && epoch == e;
    }

    /**
     * A primary at epoch e that takes writes now: it serves, and under sync replication it has the
     * minInSync-1 replicas in sync that a write must reach before it is acknowledged.
     */
    public boolean takesWritesAt(long e, ReplicationMode mode, int minInSync) {
        return isPrimaryAt(e) && serving && (mode != ReplicationMode.SYNC || inSyncReplicas >= minInSync - 1);
    }

    public boolean followsAt(String primaryId, long e) {
        return role == Role.REPLICA && epoch == e && following.equals(primaryId);
    }

    /** The lowest head of its primary that this report proves: what it holds plus what it lacks. */
    public long knownHead() {
        return lastSeq + lagRecords;
    }

    /** One phrase for logs: role, epoch and position. */
    public String describe() {
        return role.name().toLowerCase(java.util.Locale.ROOT) + " at epoch " + epoch + ", seq " + lastSeq
                + " of epoch " + lastEpoch + (caughtUp ? "" : ", not caught up (storage " + storageId + ")");
    }
}
