package io.limedb.testkit.check;

import java.util.List;
import java.util.stream.Collectors;

/** What {@link CounterChecker} found, per counter. */
public record CounterReport(List<Counter> counters) {

    public CounterReport {
        counters = List.copyOf(counters);
    }

    /**
     * One counter.
     *
     * @param acknowledged increments that returned OK
     * @param failed       increments that returned FAIL (not applied)
     * @param unknown      increments whose outcome is unknown
     * @param min          the lowest value the outcomes allow
     * @param max          the highest value the outcomes allow
     * @param actual       the value read back
     */
    public record Counter(String key, int acknowledged, int failed, int unknown, long min, long max, long actual) {
        public boolean ok() {
            return actual >= min && actual <= max;
        }

        public String summary() {
            String verdict = ok() ? "ok" : actual < min ? "LOST " + (min - actual) + " acknowledged" : "EXCESS " + (actual - max);
            return key + ": acknowledged=" + acknowledged + " failed=" + failed + " unknown=" + unknown
                    + " final=" + actual + " allowed=[" + min + ".." + max + "] " + verdict;
        }
    }

    /** Every counter within its bounds. */
    public boolean ok() {
        return counters.stream().allMatch(Counter::ok);
    }

    public int acknowledged() {
        return counters.stream().mapToInt(Counter::acknowledged).sum();
    }

    public int failed() {
        return counters.stream().mapToInt(Counter::failed).sum();
    }

    public int unknown() {
        return counters.stream().mapToInt(Counter::unknown).sum();
    }

    /** Acknowledged increments missing from the final values, summed over counters. */
    public long lost() {
        return counters.stream().mapToLong(c -> Math.max(0, c.min() - c.actual())).sum();
    }

    /** One line per counter. */
    public String summary() {
        return counters.stream().map(Counter::summary).collect(Collectors.joining("\n"));
    }

    @Override
    public String toString() {
        return summary();
    }
}
