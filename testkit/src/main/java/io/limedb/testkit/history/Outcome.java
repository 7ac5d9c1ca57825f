package io.limedb.testkit.history;

/** How a client operation ended, as far as the client knows. */
public enum Outcome {
    /** The operation took effect; a read's value is known. */
    OK,
    /** The operation definitely did not take effect (the server said so before applying it). */
    FAIL,
    /** The client does not know (timeout, lost connection): it may or may not have taken effect. */
    UNKNOWN
}
