package io.limedb.core.control;

/**
 * One completed failover (or bootstrap, when {@code fromEpoch} is 0), for people and for tests.
 *
 * @param detectedNanos       when this controller first saw the primary lost ({@code System.nanoTime} scale)
 * @param promotedNanos       when the new primary was published
 * @param expectedLossRecords acknowledged records the new primary may lack (0 in sync mode)
 */
public record Failover(String shard, String from, String to, long fromEpoch, long toEpoch, long detectedNanos,
        long promotedNanos, long expectedLossRecords) {

    public boolean bootstrap() {
        return fromEpoch == 0;
    }
}
