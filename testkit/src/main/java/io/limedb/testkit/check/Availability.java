package io.limedb.testkit.check;

import io.limedb.testkit.history.History;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.util.ArrayList;
import java.util.Collection;

/**
 * How available a store was to its clients over a window: the share of operations acknowledged, and
 * the longest stretch without an acknowledged write (the edges of the window count as ends of gaps).
 *
 * @param operations   operations invoked in the window
 * @param acknowledged of those, the ones that returned OK
 * @param longestGapNanos longest time between consecutive acknowledged writes
 * @param gapStartNanos where that gap starts, on the histories' clock
 */
public record Availability(int operations, int acknowledged, long longestGapNanos, long gapStartNanos) {

    /** Operations of all the histories invoked in [fromNanos, toNanos). */
    public static Availability of(Collection<History> histories, long fromNanos, long toNanos) {
        int ops = 0, ok = 0;
        var writeAcks = new ArrayList<Long>();
        for (History h : histories) {
            for (Operation op : h.operations()) {
                if (op.invokeNanos() < fromNanos || op.invokeNanos() >= toNanos) continue;
                ops++;
                if (op.outcome() != Outcome.OK) continue;
                ok++;
                if (op.mutates()) writeAcks.add(Math.min(op.returnNanos(), toNanos));
            }
        }
        writeAcks.sort(null);
        long prev = fromNanos, gap = 0, gapStart = fromNanos;
        writeAcks.add(toNanos);
        for (long t : writeAcks) {
            if (t - prev > gap) {
                gap = t - prev;
                gapStart = prev;
            }
            prev = Math.max(prev, t);
        }
        return new Availability(ops, ok, gap, gapStart);
    }

    /** Acknowledged operations as a share of all, 0..1; 1 when there were none. */
    public double share() {
        return operations == 0 ? 1.0 : (double) acknowledged / operations;
    }
}
