package io.limedb.testkit.history;

/** The kinds of register operation a client performs on one key. */
public enum OpKind {
    /** Sets the key to a non-null value. */
    WRITE,
    /** Returns the key's value, or {@code null} when it is absent. */
    READ,
    /** Removes the key: a write of {@code null}. */
    DELETE;

    /** Whether operations of this kind change the register. */
    public boolean mutates() {
        return this != READ;
    }
}
