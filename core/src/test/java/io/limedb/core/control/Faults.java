package io.limedb.core.control;

import java.util.function.Supplier;

/** Counts the fakes' effectful operations and crashes the controller at the chosen one. */
final class Faults {

    /** A controller process dying: not a member failure, so the loop does not catch it. */
    static final class Crash extends RuntimeException {
        Crash(String where) {
            super("crash " + where);
        }
    }

    private int crashAt = -1;
    private boolean afterEffect;
    private int ops;

    /** Crash at the {@code k}-th operation from now, before or after its effect. */
    void crashAt(int k, boolean afterEffect) {
        this.crashAt = ops + k;
        this.afterEffect = afterEffect;
    }

    void off() {
        crashAt = -1;
    }

    int ops() {
        return ops;
    }

    <T> T op(String label, Supplier<T> effect) {
        boolean crash = ++ops == crashAt;
        if (crash && !afterEffect) throw new Crash("before " + label);
        T result = effect.get();
        if (crash) throw new Crash("after " + label);
        return result;
    }
}
