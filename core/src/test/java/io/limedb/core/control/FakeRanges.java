package io.limedb.core.control;

import io.limedb.core.ring.RangeSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link RangesPort} that records every call in {@link #log} (shared with whoever else wants to log
 * there, e.g. the store's writes) and answers a pull at once: {@code CAUGHT_UP} to a copy,
 * {@code FINISHED} to a finishing pull, or {@link #pullAnswer} when set.
 */
final class FakeRanges implements RangesPort {

    record SetOwnership(String member, long epoch, long ringVersion, RangeSet ranges, RangeSet drop, long answeredSeq) {}

    record Pull(String target, long targetEpoch, String move, String source, long sourceEpoch, RangeSet ranges,
            long finishAtSeq, long ownVersion, RangeSet ownAfter, PullState answered) {
        boolean finishing() {
            return finishAtSeq > 0;
        }
    }

    final List<Object> log;
    /** What each member was last told it owns, and at which ring version. */
    final Map<String, SetOwnership> owned = new HashMap<>();
    /** When set, every pull answers this state (with {@link #pullError}). */
    PullState pullAnswer;
    String pullError = "";
    private long seq = 100;

    FakeRanges(List<Object> log) {
        this.log = log;
    }

    @Override
    public long setOwnership(String memberId, long epoch, long ringVersion, RangeSet ranges, RangeSet drop) {
        var call = new SetOwnership(memberId, epoch, ringVersion, ranges, drop, ++seq);
        log.add(call);
        owned.put(memberId, call);
        return call.answeredSeq();
    }

    @Override
    public PullProgress pull(String targetId, long targetEpoch, String move, String sourceId, long sourceEpoch,
            RangeSet ranges, long finishAtSeq, long ownVersion, RangeSet ownAfter) {
        PullState state = pullAnswer != null ? pullAnswer : finishAtSeq > 0 ? PullState.FINISHED : PullState.CAUGHT_UP;
        log.add(new Pull(targetId, targetEpoch, move, sourceId, sourceEpoch, ranges, finishAtSeq, ownVersion, ownAfter, state));
        if (state == PullState.FINISHED) {
            owned.put(targetId, new SetOwnership(targetId, targetEpoch, ownVersion, ownAfter, RangeSet.empty(), 0));
        }
        return new PullProgress(state, ranges.size() * 10L, ranges.size() * 1000L, finishAtSeq, finishAtSeq,
                state == PullState.FAILED ? pullError : "");
    }

    <T> List<T> calls(Class<T> type) {
        return log.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
