package io.limedb.testkit.check;

import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Decides whether the operations on one register are linearizable: the Wing &amp; Gong search over
 * a time-ordered list of call and return entries, with Lowe's memoization of (linearized set,
 * register state) pairs already explored.
 *
 * <p>Input operations are {@code OK} ones and {@code UNKNOWN} writes; an unknown write has no
 * return entry, so it can be linearized at any point after its invocation or never (the search
 * succeeds once every required operation is linearized). One exception keeps the search small: an
 * unknown write that alone wrote a value some read returned must have taken effect before the
 * earliest such read returned, so it becomes required with that return time as its own.
 */
final class RegisterSearch {

    enum Result { LINEARIZABLE, NOT_LINEARIZABLE, GAVE_UP }

    private final List<Operation> ops;
    private final int[] valueOf;      // register value id an op writes or reads; 0 is absent
    private final boolean[] required; // OK operations must be linearized, UNKNOWN ones may be
    private final long[] returnAt;    // return entry time of required operations
    private final int requiredCount;
    private final int initialState;
    private final Entry head = new Entry(-1, true, Long.MIN_VALUE);

    private RegisterSearch(List<Operation> ops, String initialValue) {
        this.ops = ops;
        var ids = new HashMap<String, Integer>();
        valueOf = new int[ops.size()];
        required = new boolean[ops.size()];
        returnAt = new long[ops.size()];
        initialState = idOf(ids, initialValue);
        for (int i = 0; i < ops.size(); i++) {
            valueOf[i] = idOf(ids, ops.get(i).value());
            required[i] = ops.get(i).outcome() == Outcome.OK;
            returnAt[i] = ops.get(i).returnNanos();
        }
        bindObservedUnknownWrites();
        int count = 0;
        for (boolean r : required) if (r) count++;
        requiredCount = count;
        link(entries());
    }

    /** Makes each unknown write that alone produced an observed value required before its first observer returned. */
    private void bindObservedUnknownWrites() {
        var writers = new HashMap<Integer, Integer>();
        var firstSeen = new HashMap<Integer, Long>();
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).mutates()) writers.merge(valueOf[i], 1, Integer::sum);
            else firstSeen.merge(valueOf[i], returnAt[i], Math::min);
        }
        for (int i = 0; i < ops.size(); i++) {
            int v = valueOf[i];
            if (!required[i] && v != initialState && writers.get(v) == 1 && firstSeen.containsKey(v)) {
                required[i] = true;
                returnAt[i] = firstSeen.get(v);
            }
        }
    }

    /**
     * Searches for a linearization of {@code ops}, all on one key, from {@code initialValue}.
     *
     * @param maxConfigurations give up after memoizing this many (linearized set, state) pairs
     * @param deadlineNanos     give up when {@link System#nanoTime()} passes this
     */
    static Result run(List<Operation> ops, String initialValue, long maxConfigurations, long deadlineNanos) {
        return new RegisterSearch(ops, initialValue).search(maxConfigurations, deadlineNanos);
    }

    private Result search(long maxConfigurations, long deadlineNanos) {
        var linearized = new BitSet(ops.size());
        var seen = new HashSet<Memo>();
        var stack = new ArrayDeque<Frame>();
        int state = initialState, done = 0;
        long steps = 0;
        var cur = head.next;
        while (done < requiredCount) {
            if (seen.size() > maxConfigurations || ((++steps & 1023) == 0 && System.nanoTime() - deadlineNanos > 0)) {
                return Result.GAVE_UP;
            }
            if (cur != null && cur.call) {
                int next = apply(cur.op, state);
                if (next >= 0) {
                    linearized.set(cur.op);
                    if (seen.add(new Memo((BitSet) linearized.clone(), next))) {
                        stack.push(new Frame(cur, state));
                        state = next;
                        if (required[cur.op]) done++;
                        cur.lift();
                        cur = head.next;
                        continue;
                    }
                    linearized.clear(cur.op);
                }
                cur = cur.next;
            } else {
                // A return entry (or the end) reached: its operation must have been linearized by now.
                if (stack.isEmpty()) {
                    return Result.NOT_LINEARIZABLE;
                }
                var frame = stack.pop();
                state = frame.stateBefore;
                linearized.clear(frame.call.op);
                if (required[frame.call.op]) done--;
                frame.call.unlift();
                cur = frame.call.next;
            }
        }
        return Result.LINEARIZABLE;
    }

    /** The state after applying op {@code i} to {@code state}, or -1 if op {@code i} cannot happen there. */
    private int apply(int i, int state) {
        if (ops.get(i).kind() == OpKind.READ) {
            return valueOf[i] == state ? state : -1;
        }
        return valueOf[i];
    }

    private List<Entry> entries() {
        var entries = new ArrayList<Entry>();
        for (int i = 0; i < ops.size(); i++) {
            var op = ops.get(i);
            var call = new Entry(i, true, op.invokeNanos());
            entries.add(call);
            if (required[i]) {
                call.match = new Entry(i, false, returnAt[i]);
                entries.add(call.match);
            }
        }
        // Calls before returns at equal times: ties count as concurrent, which never rejects a valid history.
        entries.sort(Comparator.comparingLong((Entry e) -> e.time)
                .thenComparing(e -> !e.call)
                .thenComparingInt(e -> e.op));
        return entries;
    }

    private void link(List<Entry> entries) {
        var prev = head;
        for (var e : entries) {
            prev.next = e;
            e.prev = prev;
            prev = e;
        }
    }

    private static int idOf(Map<String, Integer> ids, String value) {
        return value == null ? 0 : ids.computeIfAbsent(value, v -> ids.size() + 1);
    }

    private record Frame(Entry call, int stateBefore) {}

    private record Memo(BitSet linearized, int state) {}

    /** A call or return entry in a doubly linked list that supports removing and restoring a call with its return. */
    private static final class Entry {
        final int op;
        final boolean call;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int op, boolean call, long time) {
            this.op = op;
            this.call = call;
            this.time = time;
        }

        void lift() {
            unlink(this);
            if (match != null) unlink(match);
        }

        void unlift() {
            if (match != null) relink(match);
            relink(this);
        }

        private static void unlink(Entry e) {
            e.prev.next = e.next;
            if (e.next != null) e.next.prev = e.prev;
        }

        private static void relink(Entry e) {
            e.prev.next = e;
            if (e.next != null) e.next.prev = e;
        }
    }
}
