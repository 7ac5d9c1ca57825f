package io.limedb.core.control;

import io.limedb.core.failover.MemberReport;

/**
 * The role-change calls the control loop makes to shard members, by member id; the adapter resolves
 * addresses (gRPC to local processes, or to pods). Every call throws {@link MemberCallException}
 * when the member cannot be reached, does not answer in time, or refuses.
 *
 * <p>The node semantics the loop relies on: {@code fence(E)} persists E, a primary steps down and a
 * replica stops following, and it is a no-op on a member already primary or following at E; its
 * answer's epoch is >= E. {@code promote(E)} succeeds on a member whose epoch is below E, or at E
 * while it is neither primary nor following at E, and is a no-op on the primary of E.
 * {@code follow(p, E)} succeeds when E >= the member's epoch and it is not the primary of E.
 */
public interface MembersPort {

    /** The member's report. */
    MemberReport status(String memberId);

    /** Raises the member's epoch to {@code epoch}; answers its report after fencing. */
    MemberReport fence(String memberId, long epoch);

    /** Makes the member the primary of {@code epoch}; answers its report. */
    MemberReport promote(String memberId, long epoch);

    /** Makes the member replicate from {@code primaryId} in {@code epoch}; answers its report. */
    MemberReport follow(String memberId, String primaryId, long epoch);
}
