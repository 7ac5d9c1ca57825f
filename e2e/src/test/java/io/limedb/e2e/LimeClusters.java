package io.limedb.e2e;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** LimeCluster resources as the tests see them: untyped (the e2e module does not link the operator). */
final class LimeClusters {
    private final KubernetesClient client;
    private final String namespace;

    LimeClusters(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> api() {
        return client.genericKubernetesResources("limedb.io/v1alpha1", "LimeCluster");
    }

    /** Creates a LimeCluster from YAML (no namespace in it). */
    GenericKubernetesResource create(String yaml) {
        var r = client.getKubernetesSerialization().unmarshal(
                new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), GenericKubernetesResource.class);
        r.getMetadata().setNamespace(namespace);
        return api().inNamespace(namespace).resource(r).create();
    }

    GenericKubernetesResource get(String name) {
        return api().inNamespace(namespace).withName(name).get();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> status(GenericKubernetesResource r) {
        if (r == null) return Map.of();
        var s = r.getAdditionalProperties().get("status");
        return s instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> shards(GenericKubernetesResource r) {
        var s = status(r).get("shards");
        return s instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
    }

    static Optional<Map<String, Object>> shard(GenericKubernetesResource r, String id) {
        return shards(r).stream().filter(s -> id.equals(s.get("name"))).findFirst();
    }

    @SuppressWarnings("unchecked")
    static Optional<String> condition(GenericKubernetesResource r, String type) {
        var c = status(r).get("conditions");
        if (!(c instanceof List<?> l)) return Optional.empty();
        return l.stream().map(x -> (Map<String, Object>) x).filter(m -> type.equals(m.get("type")))
                .map(m -> String.valueOf(m.get("status"))).findFirst();
    }

    @SuppressWarnings("unchecked")
    static String conditionMessage(GenericKubernetesResource r, String type) {
        var c = status(r).get("conditions");
        if (!(c instanceof List<?> l)) return "";
        return l.stream().map(x -> (Map<String, Object>) x).filter(m -> type.equals(m.get("type")))
                .map(m -> String.valueOf(m.get("message"))).findFirst().orElse("");
    }

    /** Ready=True for the current generation. */
    static boolean ready(GenericKubernetesResource r) {
        if (r == null) return false;
        Object og = status(r).get("observedGeneration");
        return condition(r, "Ready").orElse("").equals("True") && og != null
                && ((Number) og).longValue() == r.getMetadata().getGeneration();
    }

    static long epoch(GenericKubernetesResource r, String shard) {
        return shard(r, shard).map(s -> ((Number) s.getOrDefault("epoch", 0)).longValue()).orElse(0L);
    }

    static String primary(GenericKubernetesResource r, String shard) {
        return shard(r, shard).map(s -> String.valueOf(s.getOrDefault("primary", ""))).orElse("");
    }
}
