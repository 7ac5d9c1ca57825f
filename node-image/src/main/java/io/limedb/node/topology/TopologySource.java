package io.limedb.node.topology;

import io.limedb.core.topology.Topology;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Where a coordinator learns the topology: a JSON file ({@link FileTopologySource}), or on
 * Kubernetes the operator's ConfigMap, watched through the API ({@link ConfigMapTopologySource}).
 */
public interface TopologySource extends AutoCloseable {

    /** The newest valid topology seen, if any. */
    Optional<Topology> current();

    /** Calls the listener with every newer topology (and at once with the current one, if any). */
    void subscribe(Consumer<Topology> listener);

    /**
     * Reads the topology again soon, off the caller's thread (after a shard answered NOT_PRIMARY or
     * STALE_EPOCH); completes once it was read.
     */
    CompletableFuture<Void> refresh();

    /** A human-readable description of the source, for logs and /api/v1/cluster/state. */
    String describe();

    @Override
    void close();
}
