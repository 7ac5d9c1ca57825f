package io.limedb.testkit.check;

import io.limedb.testkit.history.History;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import io.limedb.testkit.history.Outcome;
import java.util.ArrayList;
import java.util.List;

/** Builds histories by hand with times in microseconds, for checker tests. */
final class Histories {
    private final List<Operation> ops = new ArrayList<>();

    static Histories history() {
        return new Histories();
    }

    Histories write(int client, String key, String value, long invokeMicros, long returnMicros) {
        return add(client, OpKind.WRITE, key, value, invokeMicros, returnMicros, Outcome.OK);
    }

    Histories read(int client, String key, String value, long invokeMicros, long returnMicros) {
        return add(client, OpKind.READ, key, value, invokeMicros, returnMicros, Outcome.OK);
    }

    Histories delete(int client, String key, long invokeMicros, long returnMicros) {
        return add(client, OpKind.DELETE, key, null, invokeMicros, returnMicros, Outcome.OK);
    }

    Histories failedWrite(int client, String key, String value, long invokeMicros, long returnMicros) {
        return add(client, OpKind.WRITE, key, value, invokeMicros, returnMicros, Outcome.FAIL);
    }

    Histories unknownWrite(int client, String key, String value, long invokeMicros) {
        ops.add(new Operation(ops.size(), client, OpKind.WRITE, key, value, invokeMicros * 1000,
                Operation.NEVER, Outcome.UNKNOWN));
        return this;
    }

    Histories unknownRead(int client, String key, long invokeMicros) {
        ops.add(new Operation(ops.size(), client, OpKind.READ, key, null, invokeMicros * 1000,
                Operation.NEVER, Outcome.UNKNOWN));
        return this;
    }

    History build() {
        return new History(ops);
    }

    private Histories add(int client, OpKind kind, String key, String value, long inv, long ret, Outcome outcome) {
        ops.add(new Operation(ops.size(), client, kind, key, value, inv * 1000, ret * 1000, outcome));
        return this;
    }
}
