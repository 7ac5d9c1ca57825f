package io.limedb.node.replication;

import io.limedb.node.config.NodeConfig;

/** How a shard replicates; see the replication.* configuration keys. */
public record ReplicationSettings(Mode mode, int minInSync, long ackTimeoutMs, long lagMaxMs, long retainRecords,
        long leaseMs) {

    /** none: a standalone shard; sync: acknowledge after minInSync-1 replicas applied; async: after the local write. */
    public enum Mode { NONE, SYNC, ASYNC }

    public static ReplicationSettings standalone() {
        return new ReplicationSettings(Mode.NONE, 1, 1500, 2000, 200_000, 1000);
    }

    public static ReplicationSettings from(NodeConfig c) {
        return new ReplicationSettings(c.get(NodeConfig.REPLICATION_MODE), c.get(NodeConfig.MIN_IN_SYNC),
                c.get(NodeConfig.ACK_TIMEOUT_MS), c.get(NodeConfig.LAG_MAX_MS), c.get(NodeConfig.LOG_RETAIN),
                c.get(NodeConfig.LEASE_MS));
    }

    /** How long a new primary waits before serving: the longest its predecessor's lease can still run, with 10% drift. */
    public long leaseWaitMs() {
        return acksNeeded() == 0 ? 0 : leaseMs + leaseMs / 10 + 10;
    }

    /** Replica acknowledgements a sync write needs. */
    public int acksNeeded() {
        return mode == Mode.SYNC ? minInSync - 1 : 0;
    }
}
