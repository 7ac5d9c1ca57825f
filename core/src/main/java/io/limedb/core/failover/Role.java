package io.limedb.core.failover;

/** The role a shard member reports for itself. */
public enum Role {
    PRIMARY,
    REPLICA,
    /** The member has not (yet) taken a role, e.g. just restarted, or its report said nothing. */
    UNKNOWN
}
