package io.limedb.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

/**
 * A LimeCluster whose resources are not quantities is read, and says what is wrong: fabric8's own model threw
 * while reading one, and that stopped the operator's watch of every LimeCluster.
 */
class ContainerResourcesTest {

    private static LimeCluster read(String spec) {
        return Serialization.unmarshal("{\"apiVersion\":\"limedb.io/v1alpha1\",\"kind\":\"LimeCluster\","
                + "\"metadata\":{\"name\":\"demo\"},\"spec\":" + spec + "}", LimeCluster.class);
    }

    @Test
    void aValueThatIsNotAQuantityIsReadAndNamedWithItsPath() {
        var lime = read("{\"resources\":{\"limits\":{\"memory\":\"limedb/node:e2e\",\"cpu\":\"2\"}},"
                + "\"coordinator\":{\"resources\":{\"requests\":{\"cpu\":\"lots\",\"memory\":\"\"}}}}");
        assertThat(lime.getSpec().problems()).containsExactly(
                "spec.resources.limits.memory: \"limedb/node:e2e\" is not a quantity (such as 512Mi, 1Gi, 500m or 2)",
                "spec.coordinator.resources.requests.cpu: \"lots\" is not a quantity (such as 512Mi, 1Gi, 500m or 2)",
                "spec.coordinator.resources.requests.memory: \"\" is not a quantity (such as 512Mi, 1Gi, 500m or 2)");
    }

    @Test
    void quantitiesWrittenAsStringsOrIntegersBecomeTheContainersResources() {
        var lime = read("{\"resources\":{\"limits\":{\"memory\":\"512Mi\",\"cpu\":2},"
                + "\"requests\":{\"memory\":536870912,\"cpu\":\"500m\"}}}");
        assertThat(lime.getSpec().problems()).isEmpty();
        assertThat(lime.getSpec().resources.toRequirements()).isEqualTo(new ResourceRequirementsBuilder()
                .addToLimits("memory", new Quantity("512Mi")).addToLimits("cpu", new Quantity("2"))
                .addToRequests("memory", new Quantity("536870912")).addToRequests("cpu", new Quantity("500m"))
                .build());
    }

    @Test
    void noResourcesIsNoProblem() {
        assertThat(read("{}").getSpec().problems()).isEmpty();
        assertThat(read("{\"resources\":{}}").getSpec().resources.toRequirements())
                .isEqualTo(new ResourceRequirementsBuilder().build());
    }

    @Test
    void whatIsWrittenBackIsWhatWasRead() {
        var lime = read("{\"resources\":{\"limits\":{\"memory\":\"limedb/node:e2e\",\"cpu\":2}}}");
        assertThat(Serialization.asJson(lime.getSpec().resources))
                .isEqualTo("{\"limits\":{\"memory\":\"limedb/node:e2e\",\"cpu\":2}}");
    }
}
