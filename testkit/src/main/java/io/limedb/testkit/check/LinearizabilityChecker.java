package io.limedb.testkit.check;

import io.limedb.testkit.check.LinearizabilityReport.Verdict;
import io.limedb.testkit.check.LinearizabilityReport.Violation;
import io.limedb.testkit.check.RegisterSearch.Result;
import io.limedb.testkit.history.History;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks that a history of register operations is linearizable, key by key.
 *
 * <p>Each key is an independent register (linearizability is compositional), so the history is
 * split by key and each part searched on its own. Assumptions about outcomes:
 * <ul>
 *   <li>{@code OK}: took effect between invoke and return; a read's value is what it saw.
 *   <li>{@code FAIL}: definitely did not take effect, so it is dropped. A store that reports a
 *       failure after applying a write breaks this and will show up as a violation when the write
 *       is observed.
 *   <li>{@code UNKNOWN}: a write may take effect at any time after its invocation, or never; a read
 *       says nothing and is dropped. An unknown write whose value no read returned is dropped too,
 *       since it can always be ordered where nobody sees it.
 * </ul>
 * Invoke and return times must come from one monotonic clock; equal times count as concurrent.
 * A key whose search explores more configurations (pairs of a set of linearized operations and a
 * register value) than its budget, or runs longer than its time budget, is undecided, giving the verdict
 * {@code UNKNOWN} instead of hanging.
 */
public final class LinearizabilityChecker {

    /** Bounds memory too: a configuration takes ~150 bytes at 400 operations a key. */
    public static final long DEFAULT_MAX_CONFIGURATIONS_PER_KEY = 1_000_000;
    public static final Duration DEFAULT_TIMEOUT_PER_KEY = Duration.ofSeconds(10);
    private static final int MAX_WINDOW = 12;

    private final long maxConfigurationsPerKey;
    private final long timeoutNanosPerKey;

    public LinearizabilityChecker() {
        this(DEFAULT_MAX_CONFIGURATIONS_PER_KEY, DEFAULT_TIMEOUT_PER_KEY);
    }

    /** A checker that gives up on a key after exploring {@code maxConfigurationsPerKey} configurations or after {@code timeoutPerKey}. */
    public LinearizabilityChecker(long maxConfigurationsPerKey, Duration timeoutPerKey) {
        if (maxConfigurationsPerKey < 1) {
            throw new IllegalArgumentException("maxConfigurationsPerKey must be >= 1, was " + maxConfigurationsPerKey);
        }
        if (timeoutPerKey == null || timeoutPerKey.isNegative() || timeoutPerKey.isZero()) {
            throw new IllegalArgumentException("timeoutPerKey must be positive, was " + timeoutPerKey);
        }
        this.maxConfigurationsPerKey = maxConfigurationsPerKey;
        this.timeoutNanosPerKey = timeoutPerKey.toNanos();
    }

    /** Checks {@code history} with every register initially absent. */
    public LinearizabilityReport check(History history) {
        return check(history, Map.of());
    }

    /** Checks {@code history} with registers initially holding {@code initialValues} (others absent). */
    public LinearizabilityReport check(History history, Map<String, String> initialValues) {
        Objects.requireNonNull(history, "history");
        Objects.requireNonNull(initialValues, "initialValues");
        var failing = new ArrayList<String>();
        var undecided = new ArrayList<String>();
        Violation violation = null;
        int operations = 0;
        var byKey = history.byKey();
        for (var entry : byKey.entrySet()) {
            var key = entry.getKey();
            var initial = initialValues.get(key);
            var ops = relevant(entry.getValue());
            operations += ops.size();
            var result = decide(ops, initial);
            if (result == Result.GAVE_UP) {
                undecided.add(key);
            } else if (result == Result.NOT_LINEARIZABLE) {
                failing.add(key);
                if (violation == null) {
                    violation = explain(key, entry.getValue(), ops, initial, history.originNanos());
                }
            }
        }
        var verdict = !failing.isEmpty() ? Verdict.NOT_LINEARIZABLE
                : !undecided.isEmpty() ? Verdict.UNKNOWN : Verdict.LINEARIZABLE;
        return new LinearizabilityReport(verdict, byKey.size(), operations, failing, undecided, violation);
    }

    private Result decide(List<Operation> ops, String initial) {
        if (impossibleRead(ops, initial) != null) {
            return Result.NOT_LINEARIZABLE;
        }
        return RegisterSearch.run(ops, initial, maxConfigurationsPerKey, System.nanoTime() + timeoutNanosPerKey);
    }

    /** The operations of one key that constrain the search; see the class comment. */
    static List<Operation> relevant(List<Operation> keyOps) {
        var observed = new HashSet<String>();
        boolean absentObserved = false;
        for (var op : keyOps) {
            if (op.kind() == OpKind.READ && op.outcome() == Outcome.OK) {
                if (op.value() == null) absentObserved = true;
                else observed.add(op.value());
            }
        }
        var result = new ArrayList<Operation>();
        for (var op : keyOps) {
            boolean keep = switch (op.outcome()) {
                case OK -> true;
                case FAIL -> false;
                case UNKNOWN -> op.mutates() && (op.value() == null ? absentObserved : observed.contains(op.value()));
            };
            if (keep) result.add(op);
        }
        return result;
    }

    /** The earliest-returning read whose value no candidate write produced, or null. */
    private static Operation impossibleRead(List<Operation> ops, String initial) {
        var producible = new HashSet<String>();
        producible.add(initial);
        ops.stream().filter(Operation::mutates).forEach(op -> producible.add(op.value()));
        return ops.stream()
                .filter(op -> op.kind() == OpKind.READ && !producible.contains(op.value()))
                .min(Comparator.comparingLong(Operation::returnNanos).thenComparingLong(Operation::id))
                .orElse(null);
    }

    private Violation explain(String key, List<Operation> keyOps, List<Operation> ops, String initial, long origin) {
        var read = impossibleRead(ops, initial);
        if (read != null) {
            return impossibleReadViolation(key, keyOps, read, origin);
        }
        long cut = shortestFailingPrefix(keyOps, ops, initial);
        var culprit = ops.stream()
                .filter(op -> op.returnNanos() == cut)
                .min(Comparator.comparing((Operation op) -> op.kind() != OpKind.READ).thenComparingLong(Operation::id))
                .orElseThrow();
        var window = window(culprit, prefix(keyOps, cut));
        var text = new StringBuilder("key " + key + ": not linearizable. The history is linearizable up to just before "
                + culprit.describe(origin) + " returned, and not once it has returned. Operations involved:");
        window.forEach(op -> text.append("\n  ").append(op.describe(origin)));
        if (window.size() == MAX_WINDOW) text.append("\n  ...");
        return new Violation(key, window, text.toString());
    }

    private static Violation impossibleReadViolation(String key, List<Operation> keyOps, Operation read, long origin) {
        var failedWrites = keyOps.stream()
                .filter(op -> op.kind() == OpKind.WRITE && op.value().equals(read.value()))
                .limit(MAX_WINDOW - 1)
                .toList();
        var window = new ArrayList<Operation>(failedWrites);
        window.add(read);
        window.sort(Comparator.comparingLong(Operation::invokeNanos).thenComparingLong(Operation::id));
        var text = new StringBuilder("key " + key + ": not linearizable. " + read.describe(origin)
                + " returned a value that no write which may have taken effect wrote");
        if (!failedWrites.isEmpty()) {
            text.append("; it was written only by operations that failed (a failure must mean not applied):");
            failedWrites.forEach(op -> text.append("\n  ").append(op.describe(origin)));
        }
        return new Violation(key, window, text.toString());
    }

    /**
     * The earliest return time T such that the history cut at T is not linearizable. Cutting is
     * monotone (a linearizable history stays linearizable when cut), so a binary search works.
     */
    private long shortestFailingPrefix(List<Operation> keyOps, List<Operation> ops, String initial) {
        var cuts = ops.stream().filter(Operation::returned).mapToLong(Operation::returnNanos)
                .distinct().sorted().toArray();
        int lo = 0, hi = cuts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            var result = decide(relevant(prefix(keyOps, cuts[mid])), initial);
            if (result == Result.NOT_LINEARIZABLE) hi = mid;
            else lo = mid + 1;
        }
        return cuts[hi];
    }

    /** The history as it stood at time {@code cut}: operations still running become unknown. */
    static List<Operation> prefix(List<Operation> keyOps, long cut) {
        return keyOps.stream()
                .filter(op -> op.invokeNanos() <= cut)
                .map(op -> op.returned() && op.returnNanos() <= cut ? op
                        : new Operation(op.id(), op.client(), op.kind(), op.key(),
                                op.kind() == OpKind.WRITE ? op.value() : null,
                                op.invokeNanos(), Operation.NEVER, Outcome.UNKNOWN))
                .toList();
    }

    /** The culprit, the last write completed before it, its concurrent operations and the writes of what it read. */
    private static List<Operation> window(Operation culprit, List<Operation> cutOps) {
        var candidates = relevant(cutOps);
        Set<Operation> window = new LinkedHashSet<>();
        window.add(culprit);
        candidates.stream()
                .filter(op -> op.mutates() && op.precedes(culprit))
                .max(Comparator.comparingLong(Operation::returnNanos))
                .ifPresent(window::add);
        if (culprit.kind() == OpKind.READ) {
            candidates.stream()
                    .filter(op -> op.mutates() && Objects.equals(op.value(), culprit.value()))
                    .limit(2)
                    .forEach(window::add);
        }
        candidates.stream()
                .filter(op -> !op.precedes(culprit) && !culprit.precedes(op))
                .forEach(window::add);
        return window.stream()
                .limit(MAX_WINDOW)
                .sorted(Comparator.comparingLong(Operation::invokeNanos).thenComparingLong(Operation::id))
                .toList();
    }
}
