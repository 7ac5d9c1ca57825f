package io.limedb.testkit.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Records client operations from many threads, with invoke and return times from one monotonic
 * clock.
 *
 * <p>Call {@link #invoke} just before sending a request and complete the returned {@link Pending}
 * exactly once when it ends. An operation still pending when {@link #snapshot()} is taken appears
 * as {@link Outcome#UNKNOWN}.
 */
public final class HistoryRecorder {

    private final LongSupplier clock;
    private final AtomicLong nextId = new AtomicLong();
    private final ConcurrentLinkedQueue<Operation> completed = new ConcurrentLinkedQueue<>();
    private final Map<Long, Pending> inFlight = new ConcurrentHashMap<>();

    /** A recorder on {@link System#nanoTime()}. */
    public HistoryRecorder() {
        this(System::nanoTime);
    }

    /** A recorder on the given monotonic clock (nanoseconds), e.g. a fake one in tests. */
    public HistoryRecorder(LongSupplier clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Records that {@code client} invokes an operation now.
     *
     * @param value the value to write for {@code WRITE}; {@code null} for {@code READ} and {@code DELETE}
     */
    public Pending invoke(int client, OpKind kind, String key, String value) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        if (kind == OpKind.WRITE && value == null) {
            throw new IllegalArgumentException("write of " + key + " needs a value; use DELETE to remove");
        }
        if (kind != OpKind.WRITE && value != null) {
            throw new IllegalArgumentException(kind + " of " + key + " takes no value");
        }
        var pending = new Pending(nextId.getAndIncrement(), client, kind, key, value, clock.getAsLong());
        inFlight.put(pending.id, pending);
        return pending;
    }

    public Pending write(int client, String key, String value) {
        return invoke(client, OpKind.WRITE, key, value);
    }

    public Pending read(int client, String key) {
        return invoke(client, OpKind.READ, key, null);
    }

    public Pending delete(int client, String key) {
        return invoke(client, OpKind.DELETE, key, null);
    }

    /** Every operation invoked so far; those not yet completed are {@code UNKNOWN}. */
    public History snapshot() {
        // Read in-flight first: completion adds to `completed` before leaving `inFlight`, so an
        // operation is always seen at least once; when seen twice, the completed record wins.
        var byId = new HashMap<Long, Operation>();
        for (var p : inFlight.values()) {
            byId.put(p.id, p.toOperation(null, Operation.NEVER, Outcome.UNKNOWN));
        }
        for (var op : completed) {
            byId.put(op.id(), op);
        }
        return new History(new ArrayList<>(byId.values()));
    }

    /** An invoked operation waiting for its outcome; complete it exactly once. */
    public final class Pending {
        private final long id;
        private final int client;
        private final OpKind kind;
        private final String key;
        private final String value;
        private final long invokeNanos;
        private final AtomicBoolean done = new AtomicBoolean();

        private Pending(long id, int client, OpKind kind, String key, String value, long invokeNanos) {
            this.id = id;
            this.client = client;
            this.kind = kind;
            this.key = key;
            this.value = value;
            this.invokeNanos = invokeNanos;
        }

        /** The write or delete took effect. */
        public void ok() {
            if (kind == OpKind.READ) {
                throw new IllegalStateException("read #" + id + " of " + key + " completes with ok(value)");
            }
            complete(null, Outcome.OK, clock.getAsLong());
        }

        /** The read returned {@code readValue}; {@code null} means the key was absent. */
        public void ok(String readValue) {
            if (kind != OpKind.READ) {
                throw new IllegalStateException(kind + " #" + id + " of " + key + " completes with ok()");
            }
            complete(readValue, Outcome.OK, clock.getAsLong());
        }

        /** The operation definitely did not take effect. */
        public void fail() {
            complete(null, Outcome.FAIL, clock.getAsLong());
        }

        /** The client cannot tell whether the operation took effect (e.g. a timeout). */
        public void unknown() {
            complete(null, Outcome.UNKNOWN, Operation.NEVER);
        }

        private void complete(String readValue, Outcome outcome, long returnNanos) {
            if (!done.compareAndSet(false, true)) {
                throw new IllegalStateException("operation #" + id + " of " + key + " already completed");
            }
            completed.add(toOperation(readValue, Math.max(returnNanos, invokeNanos), outcome));
            inFlight.remove(id);
        }

        private Operation toOperation(String readValue, long returnNanos, Outcome outcome) {
            var v = kind == OpKind.WRITE ? value : outcome == Outcome.OK ? readValue : null;
            return new Operation(id, client, kind, key, v, invokeNanos, returnNanos, outcome);
        }
    }
}
