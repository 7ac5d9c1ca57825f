package io.limedb.core.failover;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Decides whether and how to fail over one shard from its members' status reports; pure, no I/O.
 *
 * <p>Rules, in order:
 * <ol>
 *   <li>If the current primary is reachable and reports role {@code PRIMARY}: {@link FailoverPlan.NoAction}.
 *   <li>The new epoch is {@code max(currentEpoch, highest epoch any member persisted) + 1}, so it
 *       is above everything any member may have seen.
 *   <li>Candidates are reachable members reporting role {@code REPLICA}, other than the current
 *       primary. The best one has the highest {@code lastAppliedSeq}, then is in sync, then has the
 *       lowest {@code memberId} (deterministic whatever the input order).
 *   <li>{@code SYNC}: only in-sync candidates qualify (they hold every acknowledged write), so the
 *       expected loss is 0. Without one the plan is {@link FailoverPlan.Refuse}, unless {@code force},
 *       which promotes the best candidate and reports its loss window.
 *   <li>{@code ASYNC}: the loss window is the known primary head (the highest
 *       {@link MemberStatus#knownPrimaryHead()} of any member, reachable or not) minus the best
 *       candidate's {@code lastAppliedSeq}; above {@code maxAsyncLagRecords} the plan is
 *       {@link FailoverPlan.Refuse} unless {@code force}.
 * </ol>
 * The commands of a promotion are: {@code Fence} every reachable member that may still act as
 * primary (the current primary first, then any other member reporting {@code PRIMARY}), then
 * {@code Promote} the new primary, then {@code Follow} for every other reachable member, by
 * {@code memberId}. Unreachable members get no command; they learn the new epoch when they return.
 */
public final class FailoverPlanner {

    private static final Comparator<MemberStatus> MOST_CAUGHT_UP_FIRST =
            Comparator.comparingLong(MemberStatus::lastAppliedSeq).reversed()
                    .thenComparing(MemberStatus::inSync, Comparator.reverseOrder())
                    .thenComparing(MemberStatus::memberId);

    private FailoverPlanner() {}

    /**
     * Plans the failover of {@code shardId}.
     *
     * @param currentPrimaryId the topology's primary of the shard, or {@code null} when it has none;
     *                         an id absent from {@code members} is treated as unreachable
     * @param members          every member of the shard with its last report
     * @throws IllegalArgumentException if an argument is missing or inconsistent
     */
    public static FailoverPlan plan(String shardId, long currentEpoch, String currentPrimaryId,
                                    List<MemberStatus> members, FailoverPolicy policy) {
        validate(shardId, currentEpoch, members, policy);
        var current = members.stream().filter(m -> m.memberId().equals(currentPrimaryId)).findFirst();
        if (current.isPresent() && current.get().reachable() && current.get().role() == Role.PRIMARY) {
            return new FailoverPlan.NoAction(shardId, "primary " + currentPrimaryId
                    + " is reachable and reports role PRIMARY");
        }
        long newEpoch = nextEpoch(currentEpoch, members);
        long head = members.stream().mapToLong(MemberStatus::knownPrimaryHead).max().orElseThrow();
        var candidates = members.stream()
                .filter(m -> m.reachable() && m.role() == Role.REPLICA && !m.memberId().equals(currentPrimaryId))
                .sorted(MOST_CAUGHT_UP_FIRST)
                .toList();
        if (candidates.isEmpty()) {
            return refuse(shardId, "no reachable replica to promote", members, head);
        }
        return switch (policy.mode()) {
            case SYNC -> planSync(shardId, newEpoch, currentPrimaryId, members, policy, candidates, head);
            case ASYNC -> planAsync(shardId, newEpoch, currentPrimaryId, members, policy, candidates, head);
        };
    }

    private static FailoverPlan planSync(String shardId, long newEpoch, String currentPrimaryId,
                                         List<MemberStatus> members, FailoverPolicy policy,
                                         List<MemberStatus> candidates, long head) {
        Optional<MemberStatus> inSync = candidates.stream().filter(MemberStatus::inSync).findFirst();
        if (inSync.isPresent()) {
            return promote(shardId, newEpoch, currentPrimaryId, inSync.get(), members, 0);
        }
        var best = candidates.getFirst();
        long loss = head - best.lastAppliedSeq();
        if (policy.force()) {
            return promote(shardId, newEpoch, currentPrimaryId, best, members, loss);
        }
        return refuse(shardId, "sync mode and no reachable replica is in sync, so promoting any would lose"
                + " acknowledged writes (best is " + best.memberId() + ", up to " + loss
                + " records behind); set force to promote it anyway", members, head);
    }

    private static FailoverPlan planAsync(String shardId, long newEpoch, String currentPrimaryId,
                                          List<MemberStatus> members, FailoverPolicy policy,
                                          List<MemberStatus> candidates, long head) {
        var best = candidates.getFirst();
        long loss = head - best.lastAppliedSeq();
        if (loss > policy.maxAsyncLagRecords() && !policy.force()) {
            return refuse(shardId, "async mode and the most caught-up reachable replica " + best.memberId()
                    + " is " + loss + " records behind the known head " + head + ", over maxAsyncLagRecords="
                    + policy.maxAsyncLagRecords() + "; set force to promote it anyway", members, head);
        }
        return promote(shardId, newEpoch, currentPrimaryId, best, members, loss);
    }

    private static FailoverPlan.Promote promote(String shardId, long newEpoch, String currentPrimaryId,
                                                MemberStatus chosen, List<MemberStatus> members, long loss) {
        var others = members.stream()
                .filter(m -> m.reachable() && !m.memberId().equals(chosen.memberId()))
                .sorted(Comparator.comparing(MemberStatus::memberId))
                .toList();
        var commands = new ArrayList<Command>();
        others.stream()
                .filter(m -> m.memberId().equals(currentPrimaryId))
                .forEach(m -> commands.add(new Command.Fence(m.memberId(), m.address(), newEpoch)));
        others.stream()
                .filter(m -> !m.memberId().equals(currentPrimaryId) && m.role() == Role.PRIMARY)
                .forEach(m -> commands.add(new Command.Fence(m.memberId(), m.address(), newEpoch)));
        commands.add(new Command.Promote(chosen.memberId(), chosen.address(), newEpoch));
        others.forEach(m -> commands.add(
                new Command.Follow(m.memberId(), m.address(), chosen.address(), newEpoch)));
        return new FailoverPlan.Promote(shardId, chosen.memberId(), newEpoch, commands, loss);
    }

    private static long nextEpoch(long currentEpoch, List<MemberStatus> members) {
        long highest = members.stream().mapToLong(MemberStatus::epoch).max().orElseThrow();
        return Math.addExact(Math.max(currentEpoch, highest), 1);
    }

    private static FailoverPlan.Refuse refuse(String shardId, String why, List<MemberStatus> members, long head) {
        var state = members.stream()
                .sorted(Comparator.comparing(MemberStatus::memberId))
                .map(m -> describe(m, head))
                .collect(Collectors.joining("; "));
        return new FailoverPlan.Refuse(shardId, "shard " + shardId + ": " + why + ". Members: " + state);
    }

    private static String describe(MemberStatus m, long head) {
        if (!m.reachable()) {
            return m.memberId() + " unreachable";
        }
        return m.memberId() + " " + m.role() + (m.inSync() ? " in sync" : " not in sync")
                + ", applied " + m.lastAppliedSeq() + " of " + head + ", epoch " + m.epoch();
    }

    private static void validate(String shardId, long currentEpoch, List<MemberStatus> members,
                                 FailoverPolicy policy) {
        if (shardId == null || shardId.isBlank()) {
            throw new IllegalArgumentException("shardId must not be blank");
        }
        if (currentEpoch < 0) {
            throw new IllegalArgumentException("currentEpoch of shard " + shardId + " must be >= 0, was " + currentEpoch);
        }
        if (policy == null) {
            throw new IllegalArgumentException("policy of shard " + shardId + " must not be null");
        }
        if (members == null || members.isEmpty()) {
            throw new IllegalArgumentException("members of shard " + shardId + " must not be null or empty");
        }
        var ids = new HashSet<String>();
        for (var m : members) {
            if (m == null) {
                throw new IllegalArgumentException("members of shard " + shardId + " must not contain null");
            }
            if (!ids.add(m.memberId())) {
                throw new IllegalArgumentException("member " + m.memberId() + " of shard " + shardId + " is listed twice");
            }
        }
        if (policy.minInSync() > members.size()) {
            throw new IllegalArgumentException("minInSync=" + policy.minInSync() + " exceeds the "
                    + members.size() + " members of shard " + shardId);
        }
    }
}
