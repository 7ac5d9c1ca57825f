package io.limedb.testkit.history;

import java.util.Objects;

/**
 * One completed (or abandoned) client operation on a register, with its invoke and return times.
 *
 * @param id          unique within its history, in invocation order
 * @param client      the client (thread, connection) that performed it; a client is sequential
 * @param kind        what it did
 * @param key         the register's key
 * @param value       for {@code WRITE} the value written; for an {@code OK READ} the value read,
 *                    {@code null} meaning absent; otherwise {@code null}
 * @param invokeNanos when the client invoked it, on the history's monotonic clock
 * @param returnNanos when it returned; {@link Long#MAX_VALUE} when the outcome is {@code UNKNOWN},
 *                    since it may take effect at any later time
 * @param outcome     how it ended
 */
public record Operation(long id, int client, OpKind kind, String key, String value,
                        long invokeNanos, long returnNanos, Outcome outcome) {

    /** The return time of an operation whose outcome is unknown. */
    public static final long NEVER = Long.MAX_VALUE;

    public Operation {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(outcome, "outcome");
        if (kind == OpKind.WRITE && value == null) {
            throw new IllegalArgumentException("write #" + id + " of " + key + " needs a value; use DELETE to remove");
        }
        if (kind == OpKind.DELETE && value != null) {
            throw new IllegalArgumentException("delete #" + id + " of " + key + " must not carry a value");
        }
        if (kind == OpKind.READ && outcome != Outcome.OK && value != null) {
            throw new IllegalArgumentException("read #" + id + " of " + key + " returned no value: " + outcome);
        }
        if ((outcome == Outcome.UNKNOWN) != (returnNanos == NEVER)) {
            throw new IllegalArgumentException("#" + id + ": returnNanos must be NEVER exactly when the outcome is UNKNOWN");
        }
        if (returnNanos < invokeNanos) {
            throw new IllegalArgumentException("#" + id + " returned before it was invoked");
        }
    }

    /** Whether the operation changes the register if it takes effect. */
    public boolean mutates() {
        return kind.mutates();
    }

    /** Whether the operation is known to have returned. */
    public boolean returned() {
        return outcome != Outcome.UNKNOWN;
    }

    /** Whether the operation happened strictly before {@code other} in real time. */
    public boolean precedes(Operation other) {
        return returned() && returnNanos < other.invokeNanos;
    }

    /** A short description with times shown relative to {@code originNanos}, in microseconds. */
    public String describe(long originNanos) {
        var what = switch (kind) {
            case WRITE -> "write(" + key + ", " + quote(value) + ")";
            case DELETE -> "delete(" + key + ")";
            case READ -> "read(" + key + ")" + (outcome == Outcome.OK ? " -> " + quote(value) : "");
        };
        var end = returned() ? String.valueOf((returnNanos - originNanos) / 1_000) : "?";
        return "#" + id + " client " + client + " " + what + " " + outcome
                + " [" + (invokeNanos - originNanos) / 1_000 + ".." + end + " us]";
    }

    @Override
    public String toString() {
        return describe(0);
    }

    private static String quote(String v) {
        return v == null ? "absent" : "\"" + v + "\"";
    }
}
