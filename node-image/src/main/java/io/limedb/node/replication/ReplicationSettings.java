package io.limedb.node.replication;

import io.limedb.core.topology.ReplicationMode;

/**
 * How a shard replicates; built from the replication.* configuration keys by
 * {@code NodeConfig.replicationSettings()}. Mode none: a standalone shard; sync: acknowledge after
 * minInSync-1 replicas applied; async: after the local write.
 */
public record ReplicationSettings(ReplicationMode mode, int minInSync, long ackTimeoutMs, long lagMaxMs,
        long retainRecords, long leaseMs) {

    public static ReplicationSettings standalone() {
        return new ReplicationSettings(ReplicationMode.NONE, 1, 1500, 2000, 200_000, 1000);
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
