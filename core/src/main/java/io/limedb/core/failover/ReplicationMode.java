package io.limedb.core.failover;

/** How a shard's primary acknowledges writes, which decides what a failover may promote. */
public enum ReplicationMode {
    /**
     * The primary acknowledges a write only after every in-sync replica applied it durably, and
     * refuses writes while fewer than {@code minInSync} members are in sync; an in-sync replica
     * therefore holds every acknowledged write.
     */
    SYNC,
    /** The primary acknowledges before replicas apply; a failover may lose the promoted replica's lag. */
    ASYNC
}
