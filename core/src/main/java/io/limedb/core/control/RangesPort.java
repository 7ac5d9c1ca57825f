package io.limedb.core.control;

import io.limedb.core.ring.RangeSet;

/**
 * The resharding calls the control loop makes to shard primaries, by member id; the adapter resolves
 * addresses. Every call throws {@link MemberCallException} when the member cannot be reached, does
 * not answer in time, or refuses.
 */
public interface RangesPort {

    /** How far a target's pull of a move got. */
    enum PullState { IDLE, COPYING, CATCHING_UP, CAUGHT_UP, FINISHED, FAILED }

    record PullProgress(PullState state, long keys, long bytes, long sourceSeq, long sourceLastSeq, String error) {}

    /**
     * The member (a primary at {@code epoch}) owns {@code ranges} at {@code ringVersion} from now on
     * and deletes the data of {@code drop}; a replicated log record, answered once committed, with the
     * member's log position then. Idempotent.
     */
    long setOwnership(String memberId, long epoch, long ringVersion, RangeSet ranges, RangeSet drop);

    /**
     * Has the target primary pull {@code ranges} from the source primary and keep up with it; with
     * {@code finishAtSeq > 0}, catch up to that seq of the source and then own {@code ownAfter} at
     * {@code ownVersion}. Idempotent per (move, source epoch, target epoch): answers the progress.
     */
    PullProgress pull(String targetId, long targetEpoch, String move, String sourceId, long sourceEpoch, RangeSet ranges,
            long finishAtSeq, long ownVersion, RangeSet ownAfter);
}
