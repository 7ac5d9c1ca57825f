package io.limedb.testkit.check;

import io.limedb.testkit.history.History;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks a counter workload against the counters' final values: every acknowledged increment is
 * counted exactly once, every failed one not at all, and an unknown one at most once.
 *
 * <p>Each increment is recorded as a {@code WRITE} of its counter key whose value is the delta in
 * decimal (reads in the history are ignored, deletes are not allowed). A counter absent from the
 * final values is 0. A counter's final value must lie in [acknowledged + unknown decrements,
 * acknowledged + unknown increments]: below, an acknowledged increment was lost; above, one was
 * applied twice or a "not applied" one was applied.
 */
public final class CounterChecker {

    private CounterChecker() {}

    public static CounterReport check(History increments, Map<String, Long> finalValues) {
        var byKey = new TreeMap<String, long[]>(); // acknowledged, failed, unknown, ackSum, unknownUp, unknownDown
        for (Operation op : increments.operations()) {
            if (op.kind() == OpKind.DELETE) throw new IllegalArgumentException("counter workload must not delete, found " + op);
            if (op.kind() != OpKind.WRITE) continue;
            long delta;
            try {
                delta = Long.parseLong(op.value());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("an increment's value is its delta, found " + op, e);
            }
            var c = byKey.computeIfAbsent(op.key(), k -> new long[6]);
            switch (op.outcome()) {
                case OK -> {
                    c[0]++;
                    c[3] += delta;
                }
                case FAIL -> c[1]++;
                case UNKNOWN -> {
                    c[2]++;
                    if (delta > 0) c[4] += delta;
                    else c[5] += delta;
                }
            }
        }
        var counters = new ArrayList<CounterReport.Counter>();
        byKey.forEach((key, c) -> counters.add(new CounterReport.Counter(key, (int) c[0], (int) c[1], (int) c[2],
                c[3] + c[5], c[3] + c[4], finalValues.getOrDefault(key, 0L))));
        return new CounterReport(counters);
    }
}
