package io.limedb.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed CRD (crds/ and the chart's crds/) is what the Java model generates. With
 * {@code -Dlimedb.crd.write=true} ({@code make crds}) it writes the generated CRD there instead of failing.
 */
class CrdUpToDateTest {
    private static String generated;
    private static CustomResourceDefinition crd;

    @BeforeAll
    static void generate(@TempDir Path workDir) {
        generated = CrdGeneration.generate(workDir);
        crd = Serialization.unmarshal(generated, CustomResourceDefinition.class);
    }

    @Test
    void committedCrdsAreUpToDate() throws IOException {
        var root = CrdGeneration.repoRoot();
        boolean write = Boolean.getBoolean("limedb.crd.write");
        var stale = new ArrayList<String>();
        for (var relative : CrdGeneration.COMMITTED) {
            var file = root.resolve(relative);
            if (write) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, generated);
            } else if (!Files.exists(file) || !Files.readString(file).equals(generated)) {
                stale.add(relative);
            }
        }
        if (!stale.isEmpty()) {
            fail(String.join(", ", stale) + (stale.size() == 1 ? " is" : " are") + " out of date with the "
                    + "LimeCluster model: run `make crds` and commit the result");
        }
    }

    @Test
    void printerColumnsInTheOrderKubectlShouldShowThem() {
        var columns = crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns();
        assertThat(columns).extracting(CustomResourceColumnDefinition::getName)
                .containsExactly("Shards", "Replicas", "Ready", "Phase", "Resharding", "Ring", "Age");
    }

    @Test
    void everyFieldOfTheModelHasADescription() {
        var schema = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
        var missing = new ArrayList<String>();
        undescribed("spec", LimeClusterSpec.class, schema.getProperties().get("spec"), missing);
        undescribed("status", LimeClusterStatus.class, schema.getProperties().get("status"), missing);
        assertThat(missing).as("fields without a description (kubectl explain shows nothing)").isEmpty();
    }

    /** Walks the model's own classes (not the Kubernetes types it embeds) next to their schema. */
    private static void undescribed(String path, Class<?> type, JSONSchemaProps schema, List<String> missing) {
        for (Field f : type.getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            var p = path + "." + f.getName();
            var prop = schema.getProperties().get(f.getName());
            if (prop == null) {
                missing.add(p + " (not in the schema)");
                continue;
            }
            if (prop.getDescription() == null || prop.getDescription().isBlank()) {
                missing.add(p);
            }
            var fieldType = f.getType();
            if (List.class.isAssignableFrom(fieldType)) {
                fieldType = (Class<?>) ((ParameterizedType) f.getGenericType()).getActualTypeArguments()[0];
                prop = prop.getItems().getSchema();
            }
            if (fieldType.getPackageName().equals(LimeCluster.class.getPackageName())) {
                undescribed(p, fieldType, prop, missing);
            }
        }
    }
}
