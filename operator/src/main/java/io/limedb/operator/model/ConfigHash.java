package io.limedb.operator.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The {@value #ANNOTATION} annotation of a pod template: a digest of everything a running pod
 * cannot pick up without a restart. That is exactly the pod template (image, env, resources,
 * probes, scheduling), so the digest covers the template and nothing else: shard count, coordinator
 * replicas, volume size or Service type never change it, and comparing a pod's annotation with the
 * desired one tells whether that pod runs the current configuration.
 */
public final class ConfigHash {
    public static final String ANNOTATION = "limedb.io/config-hash";
    // Sorted properties and map keys: the same template always gives the same bytes, whatever the map order.
    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    private ConfigHash() {}

    /** Hex SHA-256 (first 16 characters) of the template's canonical JSON, ignoring any config-hash annotation. */
    public static String of(PodTemplateSpec template) {
        var unhashed = new PodTemplateSpecBuilder(template).editOrNewMetadata().removeFromAnnotations(ANNOTATION)
                .endMetadata().build();
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(CANONICAL.writeValueAsBytes(unhashed));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash a pod template", e);
        }
    }

    /** The template with its {@value #ANNOTATION} annotation set to {@link #of}. */
    public static PodTemplateSpec annotate(PodTemplateSpec template) {
        return new PodTemplateSpecBuilder(template).editOrNewMetadata().addToAnnotations(ANNOTATION, of(template))
                .endMetadata().build();
    }
}
