package io.limedb.core.control;

import io.limedb.core.reshard.Resharding;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.RangeSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A {@link RangesPort} that models each shard primary's ownership and data as the real node keeps them
 * (node-image ShardReplication.setOwnership, RangePuller), and checks the resharding invariants after
 * every call and every store write ({@link #check}):
 * <ul>
 *   <li>no ring position is owned by two shards at once;
 *   <li>where the published topology names X the owner of a position, either X owns it on the shard or
 *       nobody does (a write hold), or, only while the move X>Y is recorded FLIPPING, its target Y took
 *       it at the next ring version (its finishing pull answered, the flip not yet published: clients
 *       still route to X, which refuses; a hold too); and X holds its data: nothing published is lost;
 *   <li>a shard holds the data of everything it owns.
 * </ul>
 * A member's {@code owned} is what it was last told (by setOwnership, or by a finished pull), {@code data}
 * the positions it holds data for. setOwnership never adds data, only drops; a pull copies the ranges
 * from the source's data when it starts (after dropping whatever the target held of them, as the
 * puller does) and takes ownership when it finishes. Enforced as the node does: a ring version below
 * the one held is refused, dropping owned ranges is refused, a pull into a member never told what it
 * owns is refused; and a finishing pull finishes only once the source no longer owns the ranges.
 * Every call goes through {@link Faults#op}: the test crashes the controller before or after any.
 */
final class ShardData implements RangesPort {

    static final class Member {
        final String id;
        final String shard;
        final long epoch;
        /** Ring version of what it was last told; 0: never told (the fake: owns nothing). */
        long version;
        RangeSet owned = RangeSet.empty();
        RangeSet data = RangeSet.empty();
        String task = null;
        boolean taskFailed;

        Member(String id, String shard, long epoch) {
            this.id = id;
            this.shard = shard;
            this.epoch = epoch;
        }

        @Override
        public String toString() {
            return id + " v" + version + " owns " + owned + " holds " + data;
        }
    }

    private final Faults faults;
    private final Supplier<ClusterState> published;
    private final Map<String, Member> members = new LinkedHashMap<>();
    /** Every call, as a line, for failure messages. */
    final List<String> calls = new ArrayList<>();
    /** Every call that reached a member, in order: {@link FakeRanges.SetOwnership} and {@link FakeRanges.Pull}. */
    final List<Object> log = new ArrayList<>();
    /** When set, a copying pull copies, then answers this (COPYING: the copy goes on) instead of CAUGHT_UP. */
    PullState copyAnswer;
    /** When set, a finishing pull answers this (with "paused") and does not finish. */
    PullState finishAnswer;
    /** Checks run (after each call and each store write). */
    int checks;
    private long seq = 100;
    private Ownership cachedFor;
    private Map<String, RangeSet> cachedRanges;

    ShardData(Faults faults, Supplier<ClusterState> published) {
        this.faults = faults;
        this.published = published;
    }

    /** A shard primary that was told {@code owned} at {@code version} (0: never told) and holds that data. */
    Member add(String memberId, String shard, long epoch, long version, RangeSet owned) {
        var m = new Member(memberId, shard, epoch);
        m.version = version;
        m.owned = owned;
        m.data = owned;
        members.put(memberId, m);
        return m;
    }

    Member member(String id) {
        return members.get(id);
    }

    <T> List<T> calls(Class<T> type) {
        return log.stream().filter(type::isInstance).map(type::cast).toList();
    }

    Member ofShard(String shard) {
        return members.values().stream().filter(m -> m.shard.equals(shard)).findFirst().orElseThrow();
    }

    @Override
    public long setOwnership(String memberId, long epoch, long ringVersion, RangeSet ranges, RangeSet drop) {
        return faults.op("setOwnership " + memberId + " v" + ringVersion, () -> {
            calls.add("setOwnership " + memberId + "@" + epoch + " v" + ringVersion + " " + ranges + " drop " + drop);
            var m = reach(memberId, epoch);
            log.add(new FakeRanges.SetOwnership(memberId, epoch, ringVersion, ranges, drop, seq + 1));
            if (ringVersion < m.version) {
                throw new MemberCallException(memberId, "STALE_EPOCH: " + memberId + " owns ranges at ring version "
                        + m.version + ", above the " + ringVersion + " sent");
            }
            if (!drop.isEmpty() && !drop.minus(ranges).equals(drop)) {
                throw new MemberCallException(memberId, "INVALID_ARGUMENT: refusing to drop ranges it owns");
            }
            m.version = ringVersion;
            m.owned = ranges;
            m.data = m.data.minus(drop);
            check("after setOwnership " + memberId + " v" + ringVersion);
            return ++seq;
        });
    }

    @Override
    public PullProgress pull(String targetId, long targetEpoch, String move, String sourceId, long sourceEpoch,
            RangeSet ranges, long finishAtSeq, long ownVersion, RangeSet ownAfter) {
        return faults.op("pull " + move + (finishAtSeq > 0 ? " finishing" : ""), () -> {
            calls.add("pull " + move + " into " + targetId + "@" + targetEpoch + " from " + sourceId + "@" + sourceEpoch
                    + " " + ranges + (finishAtSeq > 0 ? " finish at " + finishAtSeq + " own v" + ownVersion + " " + ownAfter : ""));
            var t = reach(targetId, targetEpoch);
            var s = reach(sourceId, sourceEpoch);
            log.add(new FakeRanges.Pull(targetId, targetEpoch, move, sourceId, sourceEpoch, ranges, finishAtSeq, ownVersion,
                    ownAfter, null));
            if (t.version == 0) {
                throw new MemberCallException(targetId, "INVALID_ARGUMENT: never told what it owns");
            }
            // Finished earlier: it owns them at the version asked or later.
            if (finishAtSeq > 0 && t.version >= ownVersion && ranges.minus(t.owned).isEmpty()) {
                return progress(PullState.FINISHED, ranges, finishAtSeq, "");
            }
            String key = move + "@" + sourceEpoch + "/" + targetEpoch + " from " + sourceId;
            if (t.task == null || !t.task.equals(key) || t.taskFailed) {
                // A new pull: what an earlier attempt left behind goes first, then the copy.
                t.task = key;
                t.taskFailed = false;
                if (!intersect(ranges, t.owned).isEmpty()) {
                    t.taskFailed = true;
                    return progress(PullState.FAILED, ranges, finishAtSeq, "refusing to drop ranges it owns");
                }
                t.data = t.data.minus(ranges);
                check("after " + targetId + " dropped what it held of " + move);
                var missing = ranges.minus(s.data);
                if (!missing.isEmpty()) {
                    throw new AssertionError("move " + move + ": " + sourceId + " copies ranges it holds no data of ("
                            + missing + ")\n" + history());
                }
                t.data = t.data.union(ranges);
            }
            if (finishAtSeq == 0) {
                check("after copy " + move);
                return progress(copyAnswer != null ? copyAnswer : PullState.CAUGHT_UP, ranges, 0, "");
            }
            if (finishAnswer != null) return progress(finishAnswer, ranges, finishAtSeq, "paused");
            if (!intersect(ranges, s.owned).isEmpty()) {
                // It catches up to finishAtSeq, but the source still writes to the ranges: it cannot own them.
                return progress(PullState.CATCHING_UP, ranges, finishAtSeq, "");
            }
            if (ownVersion < t.version) {
                t.taskFailed = true;
                return progress(PullState.FAILED, ranges, finishAtSeq, "owns ranges at ring version " + t.version
                        + ", above the " + ownVersion + " sent");
            }
            t.version = ownVersion;
            t.owned = ownAfter;
            check("after finishing pull " + move);
            return progress(PullState.FINISHED, ranges, finishAtSeq, "");
        });
    }

    private static PullProgress progress(PullState state, RangeSet ranges, long at, String error) {
        return new PullProgress(state, ranges.size() * 10L, ranges.size() * 1000L, at, at, error);
    }

    private Member reach(String id, long epoch) {
        var m = members.get(id);
        if (m == null) throw new IllegalArgumentException("no member " + id);
        if (m.epoch != epoch) throw new MemberCallException(id, "NOT_PRIMARY: at epoch " + m.epoch + ", asked " + epoch);
        return m;
    }

    static RangeSet intersect(RangeSet a, RangeSet b) {
        return a.minus(a.minus(b));
    }

    /** The invariants, now; throws an AssertionError naming the first broken one. */
    void check(String when) {
        checks++;
        var all = List.copyOf(members.values());
        for (int i = 0; i < all.size(); i++) {
            var x = all.get(i);
            if (!x.owned.minus(x.data).isEmpty()) {
                fail(when, x.id + " owns positions it holds no data of");
            }
            for (int j = i + 1; j < all.size(); j++) {
                var y = all.get(j);
                if (!intersect(x.owned, y.owned).isEmpty()) {
                    fail(when, x.id + " and " + y.id + " both own " + intersect(x.owned, y.owned));
                }
            }
        }
        var state = published.get();
        var o = state.topology().ownership();
        if (o != cachedFor) {
            cachedFor = o;
            cachedRanges = o.ranges();
        }
        for (var x : all) {
            var pub = cachedRanges.getOrDefault(x.shard, RangeSet.empty());
            var notOwned = pub.minus(x.owned);
            for (var y : all) {
                if (y == x || intersect(notOwned, y.owned).isEmpty()) continue;
                var move = state.resharding() == null ? null
                        : state.resharding().moves().get(new Ownership.Pair(x.shard, y.shard));
                boolean flipping = move != null && move.phase() == Resharding.Phase.FLIPPING && y.version == o.version() + 1;
                if (!flipping) {
                    fail(when, "the topology (" + o + ") names " + x.shard + " the owner of positions " + y.id
                            + " owns at v" + y.version);
                }
            }
            if (!pub.minus(x.data).isEmpty()) {
                fail(when, "the topology (" + o + ") names " + x.shard + " the owner of positions it holds no data of: "
                        + pub.minus(x.data));
            }
        }
    }

    private void fail(String when, String what) {
        throw new AssertionError(when + ": " + what + "\n" + members.values() + "\n" + history());
    }

    String history() {
        var tail = calls.subList(Math.max(0, calls.size() - 15), calls.size());
        return "last calls:\n  " + String.join("\n  ", tail);
    }
}
