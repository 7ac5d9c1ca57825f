package io.limedb.core.topology;

/** How a shard's primary acknowledges writes, which also decides what a failover may promote. */
public enum ReplicationMode {
    /** A standalone shard: one member, no replication, no failover. */
    NONE,
    /**
     * The primary acknowledges a write only after minInSync-1 replicas applied it durably, and
     * refuses writes while fewer are in sync: every minInSync members include one that holds it.
     */
    SYNC,
    /** The primary acknowledges after its local write; a failover may lose the promoted replica's lag. */
    ASYNC
}
