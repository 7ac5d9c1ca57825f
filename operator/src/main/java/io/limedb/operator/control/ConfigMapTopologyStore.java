package io.limedb.operator.control;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.limedb.core.control.ClusterState;
import io.limedb.core.control.TopologyStore;
import io.limedb.core.topology.TopologyJson;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * The control loop's store on Kubernetes: one ConfigMap per cluster, key {@code topology.json} in
 * the topology file format (the published topology plus failovers in progress). The version is the
 * ConfigMap's resourceVersion, and every write is an update carrying the version it read, which the
 * API server refuses with 409 Conflict when someone wrote in between: compare-and-set. Coordinators
 * watch the same ConfigMap through the API; only the operator writes it.
 */
public final class ConfigMapTopologyStore implements TopologyStore {
    public static final String KEY = "topology.json";

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final int vnodes;
    private volatile ObjectMeta lastMeta;

    public ConfigMapTopologyStore(KubernetesClient client, String namespace, String name, int vnodes) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
        this.vnodes = vnodes;
    }

    /** The stored state, or empty when the ConfigMap does not exist yet. */
    public Optional<Versioned> readIfExists() {
        ConfigMap cm = client.configMaps().inNamespace(namespace).withName(name).get();
        if (cm == null) return Optional.empty();
        lastMeta = cm.getMetadata();
        String json = cm.getData() == null ? null : cm.getData().get(KEY);
        if (json == null) throw new IllegalStateException("ConfigMap " + namespace + "/" + name + " has no " + KEY);
        var stored = TopologyJson.parseState(json.getBytes(StandardCharsets.UTF_8), vnodes);
        return Optional.of(new Versioned(cm.getMetadata().getResourceVersion(), stored.state()));
    }

    @Override
    public Versioned read() {
        return readIfExists().orElseThrow(() -> new IllegalStateException(
                "topology ConfigMap " + namespace + "/" + name + " does not exist"));
    }

    @Override
    public boolean compareAndSet(String expectedVersion, ClusterState next) {
        var meta = lastMeta;
        if (meta == null) read();
        meta = lastMeta;
        var cm = new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .withLabels(meta.getLabels()).withAnnotations(meta.getAnnotations())
                .withOwnerReferences(meta.getOwnerReferences()).withResourceVersion(expectedVersion).endMetadata()
                .withData(Map.of(KEY, TopologyJson.writeState(next, 0))).build();
        try {
            lastMeta = client.configMaps().inNamespace(namespace).resource(cm).update().getMetadata();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Creates the ConfigMap with {@code initial} unless it exists; true when this call created it.
     * {@code template} gives its labels and owner reference.
     */
    public boolean createIfAbsent(ClusterState initial, ObjectMeta template) {
        var cm = new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .withLabels(template.getLabels()).withOwnerReferences(template.getOwnerReferences()).endMetadata()
                .withData(Map.of(KEY, TopologyJson.writeState(initial, 0))).build();
        try {
            lastMeta = client.configMaps().inNamespace(namespace).resource(cm).create().getMetadata();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) return false;
            throw e;
        }
    }

    public String describe() {
        return "ConfigMap " + namespace + "/" + name;
    }
}
