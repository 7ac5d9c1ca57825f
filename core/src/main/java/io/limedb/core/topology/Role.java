package io.limedb.core.topology;

/** The part a member plays in its shard's replica set. */
public enum Role {
    PRIMARY,
    REPLICA;

    public static Role parse(String s) {
        return switch (s == null ? "primary" : s.toLowerCase(java.util.Locale.ROOT)) {
            case "primary" -> PRIMARY;
            case "replica" -> REPLICA;
            default -> throw new IllegalArgumentException("role must be primary or replica, got '" + s + "'");
        };
    }
}
