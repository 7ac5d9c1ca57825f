package io.limedb.node.coordinator;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.api.v1.StatsRequest;
import io.limedb.api.v1.StatsResponse;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.ShardInfo;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Cluster-wide questions the coordinator answers by asking every node: is it up, how many keys does
 * it hold. Kept off the request path: its own channels, short deadlines.
 */
public final class ClusterAdmin implements AutoCloseable {
    private static final long STATS_DEADLINE_MS = 1000;

    /** What one member said (or why it did not answer). */
    public record MemberStatus(ShardInfo shard, Member member, StatsResponse stats, StatusResponse replication,
            String error) {
        public boolean reachable() {
            return error == null;
        }
    }

    private final Router router;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    public ClusterAdmin(Router router) {
        this.router = router;
    }

    /** Stats of every member of every shard, in topology order. */
    public CompletableFuture<List<MemberStatus>> members() {
        var futures = new ArrayList<CompletableFuture<MemberStatus>>();
        for (ShardInfo s : router.shards()) {
            for (Member m : s.members()) futures.add(stats(s, m));
        }
        return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                .thenApply(v -> futures.stream().map(CompletableFuture::join).toList());
    }

    /** Sum of the primaries' key estimates; fails naming the first shard that did not answer. */
    public CompletableFuture<Long> estimatedKeys() {
        return members().thenApply(list -> {
            long total = 0;
            for (MemberStatus m : list) {
                if (!m.member().equals(m.shard().primary())) continue;
                if (!m.reachable()) {
                    throw new LimeException(ErrorCode.SHARD_UNAVAILABLE, "shard " + m.shard().id() + " ("
                            + m.member().address() + ") is unavailable: " + m.error());
                }
                total += m.stats().getEstimatedKeys();
            }
            return total;
        });
    }

    private CompletableFuture<MemberStatus> stats(ShardInfo shard, Member member) {
        var stats = call(ShardGrpc.newFutureStub(channel(member.address()))
                .withDeadlineAfter(STATS_DEADLINE_MS, TimeUnit.MILLISECONDS).stats(StatsRequest.getDefaultInstance()));
        var role = call(ReplicationGrpc.newFutureStub(channel(member.address()))
                .withDeadlineAfter(STATS_DEADLINE_MS, TimeUnit.MILLISECONDS).status(StatusRequest.getDefaultInstance()));
        return stats.thenCombine(role, (st, ro) -> {
            if (st.error() != null) return new MemberStatus(shard, member, null, null, st.error());
            return new MemberStatus(shard, member, st.value(), ro.value(), null);
        });
    }

    private record Answer<T>(T value, String error) {}

    private static <T> CompletableFuture<Answer<T>> call(com.google.common.util.concurrent.ListenableFuture<T> f) {
        var out = new CompletableFuture<Answer<T>>();
        Futures.addCallback(f, new FutureCallback<>() {
            @Override
            public void onSuccess(T r) {
                out.complete(new Answer<>(r, null));
            }

            @Override
            public void onFailure(Throwable t) {
                String why = t instanceof StatusRuntimeException s ? s.getStatus().getCode() + " "
                        + (s.getStatus().getDescription() == null ? "" : s.getStatus().getDescription()) : t.toString();
                out.complete(new Answer<>(null, why.trim()));
            }
        }, MoreExecutors.directExecutor());
        return out;
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    }

    public Map<String, Object> ringView() {
        var t = router.table();
        var out = new LinkedHashMap<String, Object>();
        var o = t.topology().ownership();
        out.put("version", t.topology().version());
        out.put("ring_version", o.version());
        out.put("vnodes_per_shard", t.ring().vnodes());
        if (o.resharding()) {
            out.put("resharding_from", o.shards());
            out.put("resharding_to", o.next());
            out.put("flipped", o.flipped().stream().map(Object::toString).toList());
        }
        var shards = new ArrayList<Map<String, Object>>();
        // What each shard owns now (during a resharding: the old ring with the flipped pairs moved).
        o.ranges().forEach((id, set) -> {
            var m = new LinkedHashMap<String, Object>();
            m.put("id", id);
            m.put("vnodes", o.shards().contains(id) ? t.ring().vnodes() : 0);
            m.put("share", Math.round(set.share() * 1_000_000) / 10_000.0); // percent, 4 decimals
            m.put("ranges", set.size());
            shards.add(m);
        });
        out.put("shards", shards);
        return out;
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
