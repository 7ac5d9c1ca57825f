package io.limedb.node.topology;

import io.limedb.core.topology.Topology;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where a coordinator learns the topology. The first implementation is a JSON file; on Kubernetes
 * it is the operator's ConfigMap (mounted as that file, or watched through the API).
 */
public interface TopologySource extends AutoCloseable {

    /** The newest valid topology seen, if any. */
    Optional<Topology> current();

    /** Calls the listener with every newer topology (and at once with the current one, if any). */
    void subscribe(Consumer<Topology> listener);

    /** A human-readable description of the source, for logs and /api/v1/cluster/state. */
    String describe();

    @Override
    void close();
}
