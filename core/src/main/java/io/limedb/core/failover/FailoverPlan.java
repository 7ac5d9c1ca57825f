package io.limedb.core.failover;

import java.util.List;

/** What {@link FailoverPlanner} decided for one shard. */
public sealed interface FailoverPlan permits FailoverPlan.Promote, FailoverPlan.Refuse, FailoverPlan.NoAction {

    String shardId();

    /** One line for logs and events, naming the shard. */
    String summary();

    /**
     * Promote {@code newPrimaryId} at {@code newEpoch} by running {@code commands} in order.
     *
     * @param expectedLossRecords acknowledged records the new primary may lack (0 when it is in sync)
     */
    record Promote(String shardId, String newPrimaryId, long newEpoch, List<Command> commands,
                   long expectedLossRecords) implements FailoverPlan {
        public Promote {
            commands = List.copyOf(commands);
        }

        @Override
        public String summary() {
            return "shard " + shardId + ": promote " + newPrimaryId + " at epoch " + newEpoch
                    + ", expected loss " + expectedLossRecords + " records, " + commands.size() + " commands";
        }
    }

    /** No safe promotion exists; {@code reason} says why and what would allow one. */
    record Refuse(String shardId, String reason) implements FailoverPlan {
        @Override
        public String summary() {
            return "shard " + shardId + ": failover refused: " + reason;
        }
    }

    /** The current primary is reachable and still reports itself primary, so nothing is to be done. */
    record NoAction(String shardId, String reason) implements FailoverPlan {
        @Override
        public String summary() {
            return "shard " + shardId + ": no failover: " + reason;
        }
    }
}
