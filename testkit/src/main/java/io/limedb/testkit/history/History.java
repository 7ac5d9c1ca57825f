package io.limedb.testkit.history;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** An immutable history of register operations, ordered by invoke time. */
public record History(List<Operation> operations) {

    private static final Comparator<Operation> BY_INVOKE =
            Comparator.comparingLong(Operation::invokeNanos).thenComparingLong(Operation::id);

    public History {
        operations = operations.stream().sorted(BY_INVOKE).toList();
    }

    public static History of(Operation... operations) {
        return new History(List.of(operations));
    }

    /** The operations grouped by key, keys in natural order, each list ordered by invoke time. */
    public Map<String, List<Operation>> byKey() {
        return operations.stream().collect(
                Collectors.groupingBy(Operation::key, TreeMap::new, Collectors.toList()));
    }

    /** The earliest invoke time, a convenient origin when printing times; 0 when empty. */
    public long originNanos() {
        return operations.isEmpty() ? 0 : operations.getFirst().invokeNanos();
    }

    public int size() {
        return operations.size();
    }
}
