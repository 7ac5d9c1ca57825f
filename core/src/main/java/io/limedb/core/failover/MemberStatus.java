package io.limedb.core.failover;

import java.util.Objects;

/**
 * One shard member's last status report, as seen by whoever plans the failover.
 *
 * @param memberId       stable member name, e.g. {@code shard-0-1}
 * @param address        {@code host:port} of the member's gRPC endpoint
 * @param reachable      whether the member answered the latest status probe; the other fields of
 *                       an unreachable member are its last known report
 * @param role           the role the member reports
 * @param epoch          the highest epoch the member has persisted
 * @param lastAppliedSeq the sequence number of the last write the member applied durably
 * @param inSync         whether the member is in the primary's in-sync set, i.e. holds every write
 *                       the primary acknowledged (from the primary's last report or the member's)
 * @param lagRecords     how many records the member reported being behind the primary (0 for the
 *                       primary itself); {@code lastAppliedSeq + lagRecords} is a lower bound of the
 *                       primary's head sequence
 */
public record MemberStatus(
        String memberId,
        String address,
        boolean reachable,
        Role role,
        long epoch,
        long lastAppliedSeq,
        boolean inSync,
        long lagRecords) {

    public MemberStatus {
        if (memberId == null || memberId.isBlank()) {
            throw new IllegalArgumentException("memberId must not be blank");
        }
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address of member " + memberId + " must not be blank");
        }
        Objects.requireNonNull(role, () -> "role of member " + memberId + " must not be null");
        requireNonNegative(memberId, "epoch", epoch);
        requireNonNegative(memberId, "lastAppliedSeq", lastAppliedSeq);
        requireNonNegative(memberId, "lagRecords", lagRecords);
    }

    /** The lowest primary head sequence this report proves: what the member has plus what it lacks. */
    public long knownPrimaryHead() {
        return lastAppliedSeq + lagRecords;
    }

    private static void requireNonNegative(String memberId, String field, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(
                    field + " of member " + memberId + " must be >= 0, was " + value);
        }
    }
}
