package io.limedb.node.dev;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.FenceRequest;
import io.limedb.api.v1.FollowRequest;
import io.limedb.api.v1.PromoteRequest;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.core.control.MemberCallException;
import io.limedb.core.control.MembersPort;
import io.limedb.core.failover.MemberReport;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.node.replication.RoleWire;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The control loop's {@link MembersPort} over gRPC to local processes. The controller reaches a
 * member at {@code addressFor(CONTROLLER, member)}, and tells a replica to follow its primary at
 * {@code addressFor(replica, primary)}: fault tests put a proxy on each of those links.
 */
final class GrpcMembers implements MembersPort, AutoCloseable {
    private static final long STATUS_DEADLINE_MS = 300;
    // A fence persists the epoch (one fsync); each tick fences members one after the other, so a
    // frozen member must not hold the others up for long.
    private static final long FENCE_DEADLINE_MS = 1000;
    // Promote also reads the uncommitted tail of the log; follow starts the replication stream.
    private static final long ROLE_DEADLINE_MS = 3000;

    private final LocalCluster cluster;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    GrpcMembers(LocalCluster cluster) {
        this.cluster = cluster;
    }

    @Override
    public MemberReport status(String memberId) {
        var m = cluster.member(memberId);
        return call(memberId, () -> report(m, stub(m, STATUS_DEADLINE_MS).status(StatusRequest.getDefaultInstance())));
    }

    @Override
    public MemberReport fence(String memberId, long epoch) {
        var m = cluster.member(memberId);
        return call(memberId, () -> report(m, stub(m, FENCE_DEADLINE_MS)
                .fence(FenceRequest.newBuilder().setEpoch(epoch).build()).getStatus()));
    }

    @Override
    public MemberReport promote(String memberId, long epoch) {
        var m = cluster.member(memberId);
        return call(memberId, () -> report(m, stub(m, ROLE_DEADLINE_MS)
                .promote(PromoteRequest.newBuilder().setEpoch(epoch).build()).getStatus()));
    }

    @Override
    public MemberReport follow(String memberId, String primaryId, long epoch) {
        var m = cluster.member(memberId);
        String primaryAddress = cluster.addressFor(memberId, cluster.member(primaryId));
        return call(memberId, () -> report(m, stub(m, ROLE_DEADLINE_MS).follow(FollowRequest.newBuilder()
                .setPrimaryAddress(primaryAddress).setEpoch(epoch).build()).getStatus()));
    }

    /** The wire's status as the core's report: the role converted, the followed address as a member id. */
    private MemberReport report(NodeProcess m, StatusResponse r) {
        String following = "";
        if (!r.getPrimaryAddress().isEmpty()) {
            for (NodeProcess p : cluster.members(cluster.shardOf(m.name()))) {
                if (cluster.addressFor(m.name(), p).equals(r.getPrimaryAddress())) following = p.name();
            }
        }
        return new MemberReport(m.name(), RoleWire.fromWire(r.getRole()), r.getEpoch(), r.getLastEpoch(), r.getLastSeq(),
                r.getStorageId(), r.getCaughtUp(), following, Math.max(0, r.getLagRecords()), Math.max(0, r.getLagMs()));
    }

    private MemberReport call(String memberId, Supplier<MemberReport> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                // A restarted member should be seen at the next tick, not after gRPC's reconnect backoff.
                var ch = channels.get(cluster.addressFor(LocalCluster.CONTROLLER, cluster.member(memberId)));
                if (ch != null) ch.resetConnectBackoff();
            }
            String d = e.getStatus().getDescription();
            throw new MemberCallException(memberId, e.getStatus().getCode() + (d == null ? "" : ": " + d), e);
        }
    }

    private ReplicationGrpc.ReplicationBlockingStub stub(NodeProcess m, long deadlineMs) {
        var channel = channels.computeIfAbsent(cluster.addressFor(LocalCluster.CONTROLLER, m),
                a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
        return ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
