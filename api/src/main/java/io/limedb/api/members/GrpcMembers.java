package io.limedb.api.members;

import io.limedb.api.v1.FenceRequest;
import io.limedb.api.v1.FollowRequest;
import io.limedb.api.v1.PromoteRequest;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.core.control.MembersPort;
import io.limedb.core.failover.MemberReport;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The control loop's {@link MembersPort} over gRPC (the Replication service's Status, Fence, Promote
 * and Follow), for both adapters: local processes ({@code dev}) and pods (the operator). Where a
 * member is reached is the adapter's {@link Addresses}.
 */
public final class GrpcMembers implements MembersPort, AutoCloseable {
    private static final long STATUS_DEADLINE_MS = 300;
    // A fence persists the epoch (one fsync); each tick fences members one after the other, so a
    // frozen member must not hold the others up for long.
    private static final long FENCE_DEADLINE_MS = 1000;
    // Promote also reads the uncommitted tail of the log; follow starts the replication stream.
    private static final long ROLE_DEADLINE_MS = 3000;

    /** Where members are reached, by member id. */
    public interface Addresses {
        /** host:port where the controller reaches {@code memberId}. */
        String controllerAddress(String memberId);

        /** host:port where member {@code fromId} reaches member {@code toId} (the address it follows). */
        String peerAddress(String fromId, String toId);

        /** The member that {@code fromId} reaches at {@code address}, or "" when none of its shard is there. */
        String memberAt(String fromId, String address);
    }

    private final Addresses addresses;
    private final MemberChannels channels = new MemberChannels();

    public GrpcMembers(Addresses addresses) {
        this.addresses = addresses;
    }

    @Override
    public MemberReport status(String memberId) {
        return call(memberId, () -> report(memberId, stub(memberId, STATUS_DEADLINE_MS)
                .status(StatusRequest.getDefaultInstance())));
    }

    @Override
    public MemberReport fence(String memberId, long epoch) {
        return call(memberId, () -> report(memberId, stub(memberId, FENCE_DEADLINE_MS)
                .fence(FenceRequest.newBuilder().setEpoch(epoch).build()).getStatus()));
    }

    @Override
    public MemberReport promote(String memberId, long epoch) {
        return call(memberId, () -> report(memberId, stub(memberId, ROLE_DEADLINE_MS)
                .promote(PromoteRequest.newBuilder().setEpoch(epoch).build()).getStatus()));
    }

    @Override
    public MemberReport follow(String memberId, String primaryId, long epoch) {
        String primaryAddress = addresses.peerAddress(memberId, primaryId);
        return call(memberId, () -> report(memberId, stub(memberId, ROLE_DEADLINE_MS).follow(FollowRequest.newBuilder()
                .setPrimaryAddress(primaryAddress).setEpoch(epoch).build()).getStatus()));
    }

    /** The wire's status as the core's report: the role converted, the followed address as a member id. */
    private MemberReport report(String memberId, StatusResponse r) {
        String following = r.getPrimaryAddress().isEmpty() ? "" : addresses.memberAt(memberId, r.getPrimaryAddress());
        return new MemberReport(memberId, RoleWire.fromWire(r.getRole()), r.getEpoch(), r.getLastEpoch(),
                r.getLastSeq(), r.getStorageId(), r.getCaughtUp(), following, Math.max(0, r.getLagRecords()),
                Math.max(0, r.getLagMs()), r.getServing(), Math.max(0, r.getInSyncReplicas()));
    }

    private MemberReport call(String memberId, Supplier<MemberReport> rpc) {
        return channels.call(memberId, addresses.controllerAddress(memberId), rpc);
    }

    private ReplicationGrpc.ReplicationBlockingStub stub(String memberId, long deadlineMs) {
        var channel = channels.channel(addresses.controllerAddress(memberId));
        return ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
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
