package io.limedb.operator.control;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.api.v1.StatsRequest;
import io.limedb.core.topology.ShardInfo;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The shards' Stats RPC as the operator uses it: how much live data their primaries hold. */
final class ShardStats implements AutoCloseable {
    private static final long DEADLINE_MS = 3000;

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    /**
     * The data the shards' primaries hold, summed: RocksDB's live data estimate plus what is still in
     * memtables (not flushed yet, so not in the estimate). Throws, naming the shard, when one does not answer.
     */
    long liveDataBytes(Collection<ShardInfo> shards) {
        long sum = 0;
        for (ShardInfo s : shards) {
            var primary = s.primary();
            try {
                var channel = channels.computeIfAbsent(primary.address(),
                        a -> ManagedChannelBuilder.forTarget(a).usePlaintext().build());
                var st = ShardGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                        .stats(StatsRequest.getDefaultInstance());
                sum += st.getLiveDataBytes() + st.getMemtableBytes();
            } catch (StatusRuntimeException e) {
                throw new IllegalStateException("cannot read the data size of " + s.id() + " from its primary "
                        + primary.id() + ": " + e.getStatus(), e);
            }
        }
        return sum;
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
