package io.limedb.api.members;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.limedb.core.control.MemberCallException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The controller's channels to shard members, one per address, shared by {@link GrpcMembers} and
 * {@link GrpcRanges}: a call's failure becomes a {@link MemberCallException}, and an unreachable
 * member's channel skips gRPC's reconnect backoff, so a restarted member is seen at the next tick.
 */
final class MemberChannels implements AutoCloseable {
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> ManagedChannelBuilder.forTarget(a).usePlaintext().build());
    }

    /** Runs {@code rpc}, a call to {@code memberId} at {@code address}. */
    <T> T call(String memberId, String address, Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) channel(address).resetConnectBackoff();
            String d = e.getStatus().getDescription();
            throw new MemberCallException(memberId, e.getStatus().getCode() + (d == null ? "" : ": " + d), e);
        } catch (RuntimeException e) {
            // e.g. an address that does not resolve yet (a pod not created): unreachable, not a crash
            throw new MemberCallException(memberId, e.toString(), e);
        }
    }

    /** Closes the channels to addresses not in {@code keep}. */
    void retain(Set<String> keep) {
        channels.entrySet().removeIf(e -> {
            if (keep.contains(e.getKey())) return false;
            e.getValue().shutdownNow();
            return true;
        });
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
