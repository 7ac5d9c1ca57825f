package io.limedb.node.replication;

import io.limedb.core.topology.ReplicationMode;
import io.limedb.node.config.Limits;

/**
 * How a shard replicates; built from the replication.* configuration keys by
 * {@code NodeConfig.replicationSettings()}. Mode none: a standalone shard; sync: acknowledge after
 * minInSync-1 replicas applied; async: after the local write. {@code maxInboundBytes} is the largest
 * message a replica accepts from its primary ({@link Limits#maxReplicationMessageBytes()}).
 */
public record ReplicationSettings(ReplicationMode mode, int minInSync, long ackTimeoutMs, long lagMaxMs,
        long retainRecords, long leaseMs, int maxInboundBytes) {

    public static ReplicationSettings standalone() {
        return new ReplicationSettings(ReplicationMode.NONE, 1, 1500, 2000, 200_000, 1000,
                Limits.defaults().maxReplicationMessageBytes());
    }

    /** How long a new primary waits before serving: the longest its predecessor's lease can still run, with 10% drift. */
    public long leaseWaitMs() {
        return acksNeeded() == 0 ? 0 : leaseMs + leaseMs / 10 + 10;
    }

    /** Replica acknowledgements a sync write needs. */
    public int acksNeeded() {
        return mode == ReplicationMode.SYNC ? minInSync - 1 : 0;
    }
}
