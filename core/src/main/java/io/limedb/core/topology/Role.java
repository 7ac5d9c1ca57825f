package io.limedb.core.topology;

import java.util.Locale;

/** The part a member plays in its shard: what the topology names it, and what the member reports. */
public enum Role {
    PRIMARY,
    REPLICA,
    /** Started or fenced: waits to be told to promote or follow. Never named by a topology. */
    UNKNOWN,
    /** No replication configured: serves reads and writes alone. Never named by a topology. */
    STANDALONE;

    /** A role as a topology file spells it: {@code primary} (the default) or {@code replica}. */
    public static Role parse(String s) {
        return switch (s == null ? "primary" : s.toLowerCase(Locale.ROOT)) {
            case "primary" -> PRIMARY;
            case "replica" -> REPLICA;
            default -> throw new IllegalArgumentException("role must be primary or replica, got '" + s + "'");
        };
    }
}
