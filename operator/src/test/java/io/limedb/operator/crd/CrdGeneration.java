package io.limedb.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.crdv2.generator.CustomResourceInfo;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** Generates the LimeCluster CRD from the model, exactly as it is committed in crds/ and in the chart. */
final class CrdGeneration {
    static final String FILE = "limeclusters.limedb.io-v1.yml";
    /** Where the CRD is committed, relative to the repository root. Helm installs a chart's crds/ first. */
    static final List<String> COMMITTED = List.of("crds/" + FILE, "charts/limedb-operator/crds/" + FILE);

    private static final String HEADER = """
            # The LimeCluster CRD, generated from operator/src/main/java/io/limedb/operator/crd/ by `make crds`.
            # Do not edit: CrdUpToDateTest fails when this file and the model disagree.
            """;

    private CrdGeneration() {}

    /** The CRD as YAML, generated in {@code workDir} with the settings quarkus-operator-sdk uses at build time. */
    static String generate(Path workDir) {
        new CRDGenerator()
                .withParallelGenerationEnabled(false)
                .withPostProcessor(new DeclaredPrinterColumnOrder())
                .forCRDVersions("v1")
                .inOutputDir(workDir.toFile())
                .customResources(CustomResourceInfo.fromClass(LimeCluster.class))
                .detailedGenerate();
        try {
            return HEADER + Files.readString(workDir.resolve(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository root: surefire and failsafe run in the module directory and say so in {@code basedir}. */
    static Path repoRoot() {
        var module = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        return module.getParent();
    }

    /**
     * The generator sorts printer columns by JSON path; kubectl shows them in the CRD's order. This puts them back
     * in the order of the {@link AdditionalPrinterColumn} annotations on {@link LimeCluster}.
     */
    static final class DeclaredPrinterColumnOrder implements CRDPostProcessor {
        private final List<String> declared = Arrays.stream(LimeCluster.class.getAnnotationsByType(
                AdditionalPrinterColumn.class)).map(AdditionalPrinterColumn::name).toList();

        @Override
        public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
            for (var version : ((CustomResourceDefinition) crd).getSpec().getVersions()) {
                var columns = version.getAdditionalPrinterColumns();
                if (columns != null) {
                    // stable sort: columns not declared on the class (field @PrinterColumn) keep their place at the end
                    columns.sort(Comparator.comparingInt(this::position));
                }
            }
            return crd;
        }

        private int position(CustomResourceColumnDefinition column) {
            int i = declared.indexOf(column.getName());
            return i < 0 ? Integer.MAX_VALUE : i;
        }
    }
}
