package io.limedb.core.control;

/**
 * Where the control loop keeps its state, the single source of truth for topology: a file for local
 * processes, a ConfigMap (resourceVersion) on Kubernetes. Every write is a compare-and-set on the
 * version read, so two controllers can never both act on the same state.
 */
public interface TopologyStore {

    /** A state and the opaque version it was read at. */
    record Versioned(String version, ClusterState state) {}

    /** The current state; throws an unchecked exception when the store cannot be read. */
    Versioned read();

    /**
     * Replaces the state if its version is still {@code expectedVersion}. Returns false, changing
     * nothing, when someone else wrote in between; throws when the store cannot be written.
     */
    boolean compareAndSet(String expectedVersion, ClusterState next);
}
