package io.limedb.testkit.check;

import io.limedb.testkit.history.Operation;
import java.util.List;

/**
 * What {@link LinearizabilityChecker} found.
 *
 * @param verdict           {@code NOT_LINEARIZABLE} if any key is, else {@code UNKNOWN} if the
 *                          checker gave up on any key, else {@code LINEARIZABLE}
 * @param keysChecked       keys in the history
 * @param operationsChecked operations fed to the search (failed operations, reads without a
 *                          result and unobserved unknown writes are left out)
 * @param failingKeys       keys whose history is not linearizable, sorted
 * @param undecidedKeys     keys the checker gave up on within its budget, sorted
 * @param violation         the first failing key's explanation, or {@code null} when none failed
 */
public record LinearizabilityReport(Verdict verdict, int keysChecked, int operationsChecked,
                                    List<String> failingKeys, List<String> undecidedKeys, Violation violation) {

    /** The overall result; {@code UNKNOWN} means the checker gave up, not that the store is wrong. */
    public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN }

    /**
     * Why one key's history is not linearizable.
     *
     * @param key         the key
     * @param window      the operations involved: the one at whose return the history stops being
     *                    linearizable, those concurrent with it, and the writes that bear on its result
     * @param explanation a few human-readable lines
     */
    public record Violation(String key, List<Operation> window, String explanation) {
        public Violation {
            window = List.copyOf(window);
        }
    }

    public LinearizabilityReport {
        failingKeys = List.copyOf(failingKeys);
        undecidedKeys = List.copyOf(undecidedKeys);
    }

    public boolean ok() {
        return verdict == Verdict.LINEARIZABLE;
    }

    /** One line with the verdict and counts, then the violation's explanation if there is one. */
    public String summary() {
        var line = verdict + ": keys=" + keysChecked + " operations=" + operationsChecked
                + " failingKeys=" + failingKeys.size() + " undecidedKeys=" + undecidedKeys.size();
        if (!undecidedKeys.isEmpty()) {
            line += " (gave up on " + undecidedKeys.subList(0, Math.min(5, undecidedKeys.size())) + ")";
        }
        return violation == null ? line : line + "\n" + violation.explanation();
    }

    @Override
    public String toString() {
        return summary();
    }
}
