package io.limedb.api.members;

import io.limedb.api.v1.PullRequest;
import io.limedb.api.v1.Range;
import io.limedb.api.v1.RangeOwnership;
import io.limedb.api.v1.RangesGrpc;
import io.limedb.api.v1.SetOwnershipRequest;
import io.limedb.core.control.RangesPort;
import io.limedb.core.ring.RangeSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The control loop's {@link RangesPort} over gRPC (the shards' Ranges service), for both adapters. */
public final class GrpcRanges implements RangesPort, AutoCloseable {
    private static final long OWNERSHIP_DEADLINE_MS = 5000;   // a log record, committed
    private static final long PULL_DEADLINE_MS = 2000;
    private static final long FINISH_DEADLINE_MS = 8000;      // the target waits up to 5 s for its catch-up

    private final GrpcMembers.Addresses addresses;
    private final MemberChannels channels = new MemberChannels();

    public GrpcRanges(GrpcMembers.Addresses addresses) {
        this.addresses = addresses;
    }

    @Override
    public long setOwnership(String memberId, long epoch, long ringVersion, RangeSet ranges, RangeSet drop) {
        return call(memberId, () -> stub(memberId, OWNERSHIP_DEADLINE_MS).setOwnership(SetOwnershipRequest.newBuilder()
                .setEpoch(epoch).setOwnership(ownership(ringVersion, ranges)).addAllDrop(wire(drop)).build()).getLastSeq());
    }

    @Override
    public PullProgress pull(String targetId, long targetEpoch, String move, String sourceId, long sourceEpoch,
            RangeSet ranges, long finishAtSeq, long ownVersion, RangeSet ownAfter) {
        var req = PullRequest.newBuilder().setMove(move).setEpoch(targetEpoch)
                .setSourceAddress(addresses.peerAddress(targetId, sourceId)).setSourceEpoch(sourceEpoch)
                .addAllRanges(wire(ranges)).setFinishAtSeq(finishAtSeq);
        if (finishAtSeq > 0) req.setOwnAfter(ownership(ownVersion, ownAfter));
        var r = call(targetId, () -> stub(targetId, finishAtSeq > 0 ? FINISH_DEADLINE_MS : PULL_DEADLINE_MS).pull(req.build()));
        var state = switch (r.getState()) {
            case PULL_COPYING -> PullState.COPYING;
            case PULL_CATCHING_UP -> PullState.CATCHING_UP;
            case PULL_CAUGHT_UP -> PullState.CAUGHT_UP;
            case PULL_FINISHED -> PullState.FINISHED;
            case PULL_FAILED -> PullState.FAILED;
            default -> PullState.IDLE;
        };
        return new PullProgress(state, r.getKeys(), r.getBytes(), r.getSourceSeq(), r.getSourceLastSeq(), r.getError());
    }

    private static RangeOwnership ownership(long version, RangeSet ranges) {
        return RangeOwnership.newBuilder().setRingVersion(version).addAllRanges(wire(ranges)).build();
    }

    private static List<Range> wire(RangeSet set) {
        return set.ranges().stream().map(r -> Range.newBuilder().setStartExclusive(r.startExclusive())
                .setEndInclusive(r.endInclusive()).build()).toList();
    }

    private <T> T call(String memberId, Supplier<T> rpc) {
        return channels.call(memberId, addresses.controllerAddress(memberId), rpc);
    }

    private RangesGrpc.RangesBlockingStub stub(String memberId, long deadlineMs) {
        var channel = channels.channel(addresses.controllerAddress(memberId));
        return RangesGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
    }

    /** Closes the channels of members no longer in {@code keep} (addresses as given by controllerAddress). */
    public void retain(java.util.Set<String> keep) {
        channels.retain(keep);
    }

    @Override
    public void close() {
        channels.close();
    }
}
