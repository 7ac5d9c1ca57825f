package io.limedb.testkit.check;

import io.limedb.testkit.history.History;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Generates histories of a correct (linearizable) in-memory store: every operation takes effect
 * at one instant strictly inside its interval, sequential clients run concurrently, some
 * operations fail (not applied) or time out (applied or not, maybe long after invocation).
 */
final class RegisterSimulation {

    record Params(int clients, int opsPerClient, int keys, double failRate, double unknownRate,
                  int maxLatency, int maxThink) {}

    private record Planned(Operation shape, long effectAt, boolean applied) {}

    static History generate(long seed, Params p) {
        var random = new Random(seed);
        var planned = new ArrayList<Planned>();
        long id = 0;
        for (int c = 0; c < p.clients(); c++) {
            long t = random.nextInt(p.maxThink() + 1);
            for (int j = 0; j < p.opsPerClient(); j++) {
                var plan = plan(random, p, id++, c, j, t);
                planned.add(plan);
                t = (plan.shape().returned() ? plan.shape().returnNanos() / 100 : plan.shape().invokeNanos() / 100
                        + 2L * p.maxLatency()) + 1 + random.nextInt(p.maxThink() + 1);
            }
        }
        return new History(execute(planned));
    }

    private static Planned plan(Random random, Params p, long id, int client, int j, long t) {
        var key = "k" + random.nextInt(p.keys());
        int dice = random.nextInt(10);
        var kind = dice < 5 ? OpKind.WRITE : dice < 9 ? OpKind.READ : OpKind.DELETE;
        var value = kind == OpKind.WRITE ? "c" + client + "-" + j : null;
        double r = random.nextDouble();
        var outcome = r < p.failRate() ? Outcome.FAIL : r < p.failRate() + p.unknownRate() ? Outcome.UNKNOWN : Outcome.OK;
        long effect = t + 1 + random.nextInt(p.maxLatency());
        long ret = effect + 1 + random.nextInt(p.maxLatency());
        if (outcome == Outcome.UNKNOWN) {
            effect = t + 1 + random.nextInt(10 * p.maxLatency()); // may land long after the timeout
        }
        // Times are scaled by 100 and effects offset by client+1, so effect instants never tie.
        long invokeNanos = t * 100, effectAt = effect * 100 + client + 1;
        long returnNanos = outcome == Outcome.UNKNOWN ? Operation.NEVER : ret * 100;
        boolean applied = outcome == Outcome.OK || (outcome == Outcome.UNKNOWN && random.nextBoolean());
        var shape = new Operation(id, client, kind, key, value, invokeNanos, returnNanos, outcome);
        return new Planned(shape, effectAt, applied);
    }

    /** Applies operations in effect order to a map and fills in what reads saw. */
    private static List<Operation> execute(List<Planned> planned) {
        var store = new HashMap<String, String>();
        var result = new ArrayList<Operation>();
        planned.sort(Comparator.comparingLong(Planned::effectAt));
        for (var p : planned) {
            var op = p.shape();
            if (p.applied() && op.kind() == OpKind.WRITE) store.put(op.key(), op.value());
            if (p.applied() && op.kind() == OpKind.DELETE) store.remove(op.key());
            var seen = op.kind() == OpKind.READ && op.outcome() == Outcome.OK ? store.get(op.key()) : op.value();
            result.add(new Operation(op.id(), op.client(), op.kind(), op.key(), seen,
                    op.invokeNanos(), op.returnNanos(), op.outcome()));
        }
        return result;
    }

    /**
     * The history with one read made stale: it now returns the value of a write that was
     * overwritten by another write completed before the read began, which no linearizable
     * store allows (values are unique per write). Empty when the history has no such read.
     */
    static Optional<History> withStaleRead(History history, Random random) {
        var ops = new ArrayList<>(history.operations());
        var reads = ops.stream()
                .filter(op -> op.kind() == OpKind.READ && op.outcome() == Outcome.OK).toList();
        for (int attempt = 0; attempt < 50 && !reads.isEmpty(); attempt++) {
            var read = reads.get(random.nextInt(reads.size()));
            var stale = staleValueFor(read, ops);
            if (stale.isPresent()) {
                ops.set(ops.indexOf(read), new Operation(read.id(), read.client(), read.kind(), read.key(),
                        stale.get(), read.invokeNanos(), read.returnNanos(), read.outcome()));
                return Optional.of(new History(ops));
            }
        }
        return Optional.empty();
    }

    private static Optional<String> staleValueFor(Operation read, List<Operation> ops) {
        var acked = ops.stream()
                .filter(op -> op.key().equals(read.key()) && op.mutates() && op.outcome() == Outcome.OK)
                .toList();
        for (var older : acked) {
            if (older.kind() != OpKind.WRITE || older.value().equals(read.value())) continue;
            boolean overwritten = acked.stream()
                    .anyMatch(newer -> older.precedes(newer) && newer.precedes(read));
            if (overwritten) return Optional.of(older.value());
        }
        return Optional.empty();
    }
}
