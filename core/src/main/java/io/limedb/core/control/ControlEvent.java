package io.limedb.core.control;

import java.util.List;
import java.util.concurrent.TimeUnit;

/** Something the control loop did or saw, one line for operators naming shard, epoch and member. */
public sealed interface ControlEvent {

    String shard();

    long epoch();

    String message();

    /** Whether an operator should look: a lost primary, a refusal, a failure, a failover. */
    default boolean warning() {
        return true;
    }

    /** The topology's primary is unreachable or not primary at the topology's epoch. */
    record PrimarySuspected(String shard, long epoch, String member, String why, long failoverInMs)
            implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": primary " + member + " is " + why + "; failing over in "
                    + failoverInMs + " ms unless it returns";
        }
    }

    /** A suspected primary answers as primary again before the failure timeout. */
    record PrimaryRecovered(String shard, long epoch, String member) implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": primary " + member + " is back; no failover";
        }
    }

    /** A failover at {@code epoch} is recorded; members are fenced at it next. */
    record FailoverStarted(String shard, long epoch, String fromPrimary, long fromEpoch, String why)
            implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": " + (fromEpoch == 0 ? "bootstrap" : "failover from " + fromPrimary
                    + " (epoch " + fromEpoch + ")") + " recorded; fencing members at epoch " + epoch + " (" + why + ")";
        }

        public boolean warning() {
            return fromEpoch > 0;
        }
    }

    /** A member answered the fence at a higher epoch than the attempt's: a new attempt is recorded. */
    record AttemptDropped(String shard, long epoch, String member, long memberEpoch, long nextEpoch)
            implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": " + member + " is already at epoch " + memberEpoch
                    + "; dropping this attempt, next attempt at epoch " + nextEpoch;
        }
    }

    /** No safe new primary yet; reported once per distinct reason. */
    record Refused(String shard, long epoch, String reason, boolean bootstrap) implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": " + (bootstrap ? "no first primary yet: " : "failover refused: ")
                    + reason;
        }

        /** A new shard waiting for its members to start is expected; a refused failover is not. */
        public boolean warning() {
            return !bootstrap;
        }
    }

    /** A new primary is chosen and recorded; it is promoted next. */
    record PrimaryChosen(String shard, long epoch, String member, long expectedLossRecords, String why)
            implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": chose " + member + " as primary (" + why + "; expected loss "
                    + expectedLossRecords + " records)";
        }

        public boolean warning() {
            return expectedLossRecords > 0;
        }
    }

    /** Promoting the chosen member failed; reported once per distinct error. */
    record PromoteFailed(String shard, long epoch, String member, String error) implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": promoting " + member + " failed: " + error;
        }
    }

    /** The chosen member could not be promoted: a new attempt at a higher epoch is recorded. */
    record AttemptAbandoned(String shard, long epoch, String member, String why, long nextEpoch)
            implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": giving up on promoting " + member + " (" + why
                    + "); next attempt at epoch " + nextEpoch;
        }
    }

    /** The new primary is published in the topology. */
    record FailoverCompleted(Failover failover) implements ControlEvent {
        public String shard() {
            return failover.shard();
        }

        public long epoch() {
            return failover.toEpoch();
        }

        public String message() {
            var f = failover;
            return f.shard() + " epoch " + f.toEpoch() + ": " + (f.bootstrap() ? "bootstrap: " + f.to() + " is primary"
                    : "failover " + f.from() + " -> " + f.to() + " at epoch " + f.fromEpoch() + " -> " + f.toEpoch())
                    + " (published " + TimeUnit.NANOSECONDS.toMillis(f.promotedNanos() - f.detectedNanos())
                    + " ms after detection; expected loss " + f.expectedLossRecords() + " records)";
        }

        public boolean warning() {
            return !failover.bootstrap();
        }
    }

    /** A member was told to follow the primary. */
    record FollowOrdered(String shard, long epoch, String member, String primary) implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": " + member + " now follows " + primary;
        }

        public boolean warning() {
            return false;
        }
    }

    /** Telling a member to follow failed; reported once per distinct error. */
    record FollowFailed(String shard, long epoch, String member, String primary, String error) implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": telling " + member + " to follow " + primary + " failed: " + error;
        }
    }

    /** A member reports a storage different from the one seen before: its data was replaced. */
    record StorageReplaced(String shard, long epoch, String member, String before, String now, boolean caughtUp)
            implements ControlEvent {
        public String message() {
            return shard + " epoch " + epoch + ": " + member + " has new storage " + now + " (was " + before + ")"
                    + (caughtUp ? "" : "; not counted for failover until it has caught up");
        }
    }

    // ---- resharding: shard() is the move's source (or the first shard of the new ring), epoch() the ring version ----

    /** A resharding from one ring to another is recorded; its moves start next. */
    record ReshardingStarted(List<String> from, List<String> to, int moves, int ranges, long ringVersion,
            boolean rollback) implements ControlEvent {
        public String shard() {
            return to.get(0);
        }

        public long epoch() {
            return ringVersion;
        }

        public String message() {
            return (rollback ? "rolling back to " + to + ": " : "resharding " + from + " -> " + to + ": ") + moves
                    + " moves, " + ranges + " ranges";
        }

        public boolean warning() {
            return false;
        }
    }

    /** A move's target holds a copy of its ranges and keeps up with the source: it flips next. */
    record MoveCaughtUp(String shard, String target, int ranges, long keys, long bytes) implements ControlEvent {
        public long epoch() {
            return 0;
        }

        public String message() {
            return "move " + shard + " -> " + target + ": " + ranges + " ranges copied (" + keys + " keys, " + bytes
                    + " bytes) and caught up; flipping";
        }

        public boolean warning() {
            return false;
        }
    }

    /** A move's ranges belong to its target from this ring version on. */
    record MoveFlipped(String shard, String target, long epoch, int ranges, long holdMs) implements ControlEvent {
        public String message() {
            return "move " + shard + " -> " + target + ": ownership of " + ranges + " ranges flipped at ring version "
                    + epoch + " (writes to them held " + holdMs + " ms)";
        }

        public boolean warning() {
            return false;
        }
    }

    /** A move's source dropped the ranges it gave away. */
    record MoveDone(String shard, String target, int ranges) implements ControlEvent {
        public long epoch() {
            return 0;
        }

        public String message() {
            return "move " + shard + " -> " + target + ": done; the source dropped the " + ranges + " ranges";
        }

        public boolean warning() {
            return false;
        }
    }

    /** Every move is done: the new ring is the ring. */
    record ReshardingCompleted(List<String> shards, long epoch, int ranges, long keys, long bytes) implements ControlEvent {
        public String shard() {
            return shards.get(0);
        }

        public String message() {
            return "resharding done: ring " + shards + " at version " + epoch + " (" + ranges + " ranges, " + keys
                    + " keys, " + bytes + " bytes moved)";
        }

        public boolean warning() {
            return false;
        }
    }

    /** The resharding cannot go on now (reported once per reason); it resumes by itself. */
    record ReshardingWaits(String why) implements ControlEvent {
        public String shard() {
            return "";
        }

        public long epoch() {
            return 0;
        }

        public String message() {
            return "resharding waits: " + why;
        }
    }
}
