package io.limedb.testkit.check;

import java.util.List;

/**
 * What {@link SetChecker} found; see there for the exact definitions of each count.
 *
 * @param attempted    writes in the history, whatever their outcome
 * @param acknowledged writes that returned {@code OK}
 * @param failed       writes that returned {@code FAIL}
 * @param unknown      writes whose outcome is {@code UNKNOWN}
 * @param recovered    unknown writes whose value is in the final state (they took effect)
 * @param lost         keys of acknowledged writes missing from the final state or holding another value, sorted
 * @param unexpected   keys in the final state that no write could explain, sorted
 */
public record SetReport(int attempted, int acknowledged, int failed, int unknown, int recovered,
                        List<String> lost, List<String> unexpected) {

    public SetReport {
        lost = List.copyOf(lost);
        unexpected = List.copyOf(unexpected);
    }

    /** No acknowledged write lost and nothing unexpected. */
    public boolean ok() {
        return lost.isEmpty() && unexpected.isEmpty();
    }

    /** The counts on one line, followed by up to ten lost and unexpected keys when there are any. */
    public String summary() {
        var line = "attempted=" + attempted + " acknowledged=" + acknowledged + " failed=" + failed
                + " unknown=" + unknown + " recovered=" + recovered
                + " lost=" + lost.size() + " unexpected=" + unexpected.size();
        return line + sample(" lost keys", lost) + sample(" unexpected keys", unexpected);
    }

    @Override
    public String toString() {
        return summary();
    }

    private static String sample(String label, List<String> keys) {
        if (keys.isEmpty()) {
            return "";
        }
        var more = keys.size() > 10 ? " and " + (keys.size() - 10) + " more" : "";
        return label + "=" + keys.subList(0, Math.min(10, keys.size())) + more;
    }
}
