package io.limedb.core.failover;

/** One role-change RPC a failover sends to a shard member, in the plan's order. */
public sealed interface Command permits Command.Fence, Command.Promote, Command.Follow {

    String memberId();

    String address();

    /** The new epoch; the member persists it before acting and rejects anything older. */
    long epoch();

    /** Tells a member that may still act as primary to stop accepting writes at {@code epoch}. */
    record Fence(String memberId, String address, long epoch) implements Command {}

    /** Makes the member the primary of {@code epoch}. */
    record Promote(String memberId, String address, long epoch) implements Command {}

    /** Makes the member replicate from the primary at {@code primaryAddress} in {@code epoch}. */
    record Follow(String memberId, String address, String primaryAddress, long epoch) implements Command {}
}
