package io.limedb.operator.model;

import static io.limedb.operator.model.TestClusters.cluster;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import org.junit.jupiter.api.Test;

class DesiredRbacTest {

    @Test
    void nodePodsMayOnlyReadTheTopologyConfigMap() {
        var role = DesiredRbac.role(cluster());
        assertThat(role.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("");
            assertThat(rule.getResources()).containsExactly("configmaps");
            assertThat(rule.getResourceNames()).containsExactly("demo-topology");
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch");
        });
    }

    @Test
    void bindingGrantsTheRoleToTheNodeServiceAccount() {
        var binding = DesiredRbac.roleBinding(cluster());
        assertThat(binding.getRoleRef().getApiGroup()).isEqualTo("rbac.authorization.k8s.io");
        assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(binding.getRoleRef().getName()).isEqualTo("demo-node");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo("demo-node");
            assertThat(s.getNamespace()).isEqualTo("data");
        });
    }

    @Test
    void allThreeAreNamedAfterTheNodesAndOwnedByTheCluster() {
        var c = cluster();
        List<HasMetadata> objects =
                List.of(DesiredRbac.serviceAccount(c), DesiredRbac.role(c), DesiredRbac.roleBinding(c));
        assertThat(objects).allSatisfy(o -> {
            assertThat(o.getMetadata().getName()).isEqualTo("demo-node");
            assertThat(o.getMetadata().getNamespace()).isEqualTo("data");
            assertThat(o.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "node");
            assertThat(o.getMetadata().getOwnerReferences()).singleElement()
                    .satisfies(r -> assertThat(r.getBlockOwnerDeletion()).isTrue());
        });
    }
}
