package io.limedb.core.failover;

import io.limedb.core.topology.ReplicationMode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses a shard's new primary from the members' answers to a fence at the new epoch; pure, no I/O.
 *
 * <p>Only fenced answers count (a report at exactly the new epoch): a fenced member no longer
 * applies or acknowledges anything of an older epoch, so nothing it does not hold yet can be
 * acknowledged behind the election's back. Among the eligible answers the most caught-up wins, by
 * (epoch of its last record, seq), then the lowest member id.
 * <ul>
 *   <li>{@code SYNC}: only caught-up answers are eligible, and there must be
 *       {@link FailoverPolicy#answersNeeded} of them, so that they include a holder of every
 *       acknowledged write. The old primary counts if it answered. Fewer: refused, unless forced.
 *   <li>{@code ASYNC}: the most caught-up caught-up answer; its loss window is the highest head any
 *       member is known to have had minus its seq. Over {@code maxAsyncLagRecords}: refused, unless forced.
 *   <li>Bootstrap (the shard never had a primary): every member is new, so caught-up does not
 *       matter; the election waits for every member's answer, or only a majority once the
 *       bootstrap timeout has passed.
 * </ul>
 * Departing members (their pod is being deleted or is gone) answer like any other and count toward
 * the quorum, but are never chosen. When the most caught-up answer is a departing member (a
 * switchover: the old primary is fenced alive, holding the newest writes), a staying member is
 * chosen only if it provably holds every acknowledged write: it is at least as far, or every
 * staying member answered and fewer than min-in-sync members are departing (an acknowledged write
 * is on min-in-sync members, so on a staying one, and the most caught-up staying member has it).
 */
public final class Election {

    /** What an election is given. */
    public record Ballot(String shardId, long epoch, List<String> members, Map<String, MemberReport> answers,
            boolean bootstrap, boolean bootstrapTimedOut, long knownHead, Set<String> departing) {
        public Ballot(String shardId, long epoch, List<String> members, Map<String, MemberReport> answers,
                boolean bootstrap, boolean bootstrapTimedOut, long knownHead) {
            this(shardId, epoch, members, answers, bootstrap, bootstrapTimedOut, knownHead, Set.of());
        }

        public Ballot {
            members = List.copyOf(members);
            answers = Map.copyOf(answers);
            departing = Set.copyOf(departing);
            if (members.isEmpty()) throw new IllegalArgumentException("shard " + shardId + " has no members");
        }
    }

    /** The result of an election. */
    public sealed interface Outcome permits Chosen, Refused {}

    /** Promote {@code memberId}; {@code expectedLossRecords} is 0 unless the policy allowed a loss. */
    public record Chosen(String memberId, long expectedLossRecords, String why) implements Outcome {}

    /** No safe choice yet; {@code reason} says why and what would allow one. */
    public record Refused(String reason) implements Outcome {}

    private Election() {}

    public static Outcome choose(Ballot b, FailoverPolicy policy) {
        var fenced = b.answers().values().stream()
                .filter(r -> r.epoch() == b.epoch() && b.members().contains(r.memberId()))
                .sorted(MemberReport.MOST_CAUGHT_UP_FIRST).toList();
        int n = b.members().size();
        if (b.bootstrap()) {
            int majority = n / 2 + 1;
            var staying = fenced.stream().filter(r -> !b.departing().contains(r.memberId())).toList();
            if (!staying.isEmpty() && (fenced.size() == n || (b.bootstrapTimedOut() && fenced.size() >= majority))) {
                return new Chosen(staying.getFirst().memberId(), 0, "bootstrap: " + fenced.size() + " of " + n
                        + " members fenced, the most caught-up (lowest id among equals)");
            }
            return refuse(b, "bootstrap waits for all " + n + " members to answer the fence"
                    + (b.bootstrapTimedOut() ? "" : " (a majority of " + majority + " after the bootstrap timeout)"));
        }
        var caughtUp = fenced.stream().filter(MemberReport::caughtUp).toList();
        if (policy.mode() == ReplicationMode.SYNC) {
            int need = policy.answersNeeded(n);
            if (caughtUp.size() >= need) {
                var best = caughtUp.getFirst();
                if (!b.departing().contains(best.memberId())) {
                    return new Chosen(best.memberId(), 0, caughtUp.size() + " fenced, caught-up answers of "
                            + need + " needed; the most caught-up holds every acknowledged write");
                }
                var stay = caughtUp.stream().filter(r -> !b.departing().contains(r.memberId())).findFirst();
                if (stay.isPresent() && atLeastAsFar(stay.get(), best)) {
                    return new Chosen(stay.get().memberId(), 0, "switchover: " + stay.get().memberId()
                            + " is as far as the departing " + best.memberId());
                }
                boolean allStayingAnswered = b.members().stream().filter(m -> !b.departing().contains(m))
                        .allMatch(m -> caughtUp.stream().anyMatch(r -> r.memberId().equals(m)));
                if (stay.isPresent() && allStayingAnswered && b.departing().size() < policy.minInSync()) {
                    return new Chosen(stay.get().memberId(), 0, "switchover: every staying member answered and "
                            + b.departing().size() + " departing < min-in-sync " + policy.minInSync()
                            + ", so the most caught-up staying member holds every acknowledged write");
                }
                return refuse(b, "the most caught-up answer is the departing " + best.memberId()
                        + " and no staying member provably holds every acknowledged write");
            }
            String why = "sync mode with min-in-sync " + policy.minInSync() + " needs fenced, caught-up answers from "
                    + need + " of the " + n + " members (so that they include a holder of every acknowledged write), has "
                    + caughtUp.size();
            var stayingFenced = fenced.stream().filter(r -> !b.departing().contains(r.memberId())).toList();
            if (policy.force() && !stayingFenced.isEmpty()) {
                var best = stayingFenced.stream().filter(MemberReport::caughtUp).findFirst()
                        .orElse(stayingFenced.getFirst());
                return new Chosen(best.memberId(), loss(b, best), "forced: " + why);
            }
            return refuse(b, why + "; it waits for more members to answer (or force)");
        }
        var stayingFenced = fenced.stream().filter(r -> !b.departing().contains(r.memberId())).toList();
        var stayingCaughtUp = stayingFenced.stream().filter(MemberReport::caughtUp).toList();
        if (stayingCaughtUp.isEmpty()) {
            if (policy.force() && !stayingFenced.isEmpty()) {
                return new Chosen(stayingFenced.getFirst().memberId(), loss(b, stayingFenced.getFirst()),
                        "forced: async mode and no fenced staying member is caught up");
            }
            return refuse(b, "async mode and no fenced staying member is caught up");
        }
        var best = stayingCaughtUp.getFirst();
        long loss = loss(b, best);
        if (loss > policy.maxAsyncLagRecords() && !policy.force()) {
            return refuse(b, "async mode and the most caught-up fenced member " + best.memberId() + " is " + loss
                    + " records behind the highest known head " + b.knownHead() + ", over maxAsyncLagRecords="
                    + policy.maxAsyncLagRecords() + " (force to promote it anyway)");
        }
        return new Chosen(best.memberId(), loss, "async mode: the most caught-up fenced member, " + loss
                + " records behind the highest known head " + b.knownHead());
    }

    private static boolean atLeastAsFar(MemberReport a, MemberReport b) {
        return MemberReport.MOST_CAUGHT_UP_FIRST.compare(a, b) <= 0
                || (a.lastEpoch() == b.lastEpoch() && a.lastSeq() == b.lastSeq());
    }

    private static long loss(Ballot b, MemberReport chosen) {
        return Math.max(0, b.knownHead() - chosen.lastSeq());
    }

    private static Refused refuse(Ballot b, String why) {
        String members = b.members().stream().map(id -> {
            var r = b.answers().get(id);
            if (r == null) return id + " did not answer";
            if (b.departing().contains(id)) return id + " (departing) fenced, " + r.describe();
            if (r.epoch() != b.epoch()) return id + " answered at epoch " + r.epoch();
            return id + " fenced, " + r.describe();
        }).collect(Collectors.joining("; "));
        return new Refused("shard " + b.shardId() + ": no new primary at epoch " + b.epoch() + ": " + why
                + ". Members: " + members);
    }
}
