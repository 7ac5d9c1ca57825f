package io.limedb.testkit.check;

import io.limedb.testkit.history.History;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Checks an insert-only workload against the store's final contents: no acknowledged write lost,
 * nothing present that was not written.
 *
 * <p>The workload writes each key at most once (for instance each client inserts its own keys),
 * with a value that identifies the write; reads in the history are ignored, deletes are not allowed.
 * Given the final state read back after the faults healed (a missing key or a {@code null} value
 * means absent):
 * <ul>
 *   <li><b>lost</b>: keys written with outcome {@code OK} whose final value is absent or differs
 *       from the written value;
 *   <li><b>unexpected</b>: keys in the final state that were never written, or whose final value
 *       differs from the written value, or whose write returned {@code FAIL} (a failure promises the
 *       write was not applied);
 *   <li><b>recovered</b>: keys written with outcome {@code UNKNOWN} whose final value is the
 *       written value; unknown writes may be present or absent, so they are never lost.
 * </ul>
 * A key acknowledged with one value and found with another is both lost and unexpected.
 */
public final class SetChecker {

    private SetChecker() {}

    /**
     * @throws IllegalArgumentException if the history writes a key twice or contains a delete
     */
    public static SetReport check(History history, Map<String, String> finalState) {
        var writes = writesByKey(history);
        int acknowledged = 0, failed = 0, unknown = 0, recovered = 0;
        var lost = new TreeSet<String>();
        var unexpected = new TreeSet<String>();
        for (var w : writes.values()) {
            var present = finalState.get(w.key());
            boolean matches = w.value().equals(present);
            switch (w.outcome()) {
                case OK -> {
                    acknowledged++;
                    if (!matches) lost.add(w.key());
                }
                case FAIL -> {
                    failed++;
                    if (present != null) unexpected.add(w.key());
                }
                case UNKNOWN -> {
                    unknown++;
                    if (matches) recovered++;
                }
            }
            if (present != null && !matches) unexpected.add(w.key());
        }
        finalState.forEach((key, value) -> {
            if (value != null && !writes.containsKey(key)) unexpected.add(key);
        });
        return new SetReport(writes.size(), acknowledged, failed, unknown, recovered,
                new ArrayList<>(lost), new ArrayList<>(unexpected));
    }

    private static Map<String, Operation> writesByKey(History history) {
        var writes = new HashMap<String, Operation>();
        for (var op : history.operations()) {
            if (op.kind() == OpKind.DELETE) {
                throw new IllegalArgumentException("set workload must not delete, found " + op);
            }
            if (op.kind() == OpKind.WRITE) {
                var earlier = writes.putIfAbsent(op.key(), op);
                if (earlier != null) {
                    throw new IllegalArgumentException("set workload writes each key once; key "
                            + op.key() + " is written by " + earlier + " and " + op);
                }
            }
        }
        return writes;
    }
}
