package io.limedb.operator.model;

import static io.limedb.operator.model.TestClusters.SETTINGS;
import static io.limedb.operator.model.TestClusters.cluster;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.limedb.operator.crd.ContainerResources;
import io.limedb.operator.crd.LimeCluster;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class DesiredStateTest {

    @Test
    void allHoldsRbacEveryShardAndTheCoordinatorInApplyOrder() {
        var c = cluster();
        c.getSpec().shards = 2;
        assertThat(DesiredState.all(c, SETTINGS)).extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
                .containsExactly("ServiceAccount/demo-node", "Role/demo-node", "RoleBinding/demo-node",
                        "Service/demo-shard-0", "StatefulSet/demo-shard-0", "PodDisruptionBudget/demo-shard-0",
                        "Service/demo-shard-1", "StatefulSet/demo-shard-1", "PodDisruptionBudget/demo-shard-1",
                        "Deployment/demo-coordinator", "Service/demo-coordinator");
    }

    @Test
    void whileSpecShardsChangesTheShardsGivenHaveObjects() {
        var c = cluster();
        c.getSpec().shards = 2;
        assertThat(DesiredState.all(c, SETTINGS, java.util.List.of(3, 0, 1)))
                .extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
                .containsExactly("ServiceAccount/demo-node", "Role/demo-node", "RoleBinding/demo-node",
                        "Service/demo-shard-0", "StatefulSet/demo-shard-0", "PodDisruptionBudget/demo-shard-0",
                        "Service/demo-shard-1", "StatefulSet/demo-shard-1", "PodDisruptionBudget/demo-shard-1",
                        "Service/demo-shard-3", "StatefulSet/demo-shard-3", "PodDisruptionBudget/demo-shard-3",
                        "Deployment/demo-coordinator", "Service/demo-coordinator");
        assertThat(DesiredState.all(c, SETTINGS, java.util.List.of(0, 1))).isEqualTo(DesiredState.all(c, SETTINGS));
    }

    @Test
    void everyObjectIsInTheClustersNamespaceOwnedByItAndLabelled() {
        assertThat(DesiredState.all(cluster(), SETTINGS)).allSatisfy(o -> {
            var meta = o.getMetadata();
            assertThat(meta.getNamespace()).isEqualTo("data");
            assertThat(meta.getOwnerReferences()).singleElement().satisfies(r -> {
                assertThat(r.getKind()).isEqualTo("LimeCluster");
                assertThat(r.getUid()).isEqualTo("uid-1");
                assertThat(r.getController()).isTrue();
                assertThat(r.getBlockOwnerDeletion()).isTrue();
            });
            assertThat(meta.getLabels()).containsEntry("app.kubernetes.io/name", "limedb")
                    .containsEntry("app.kubernetes.io/instance", "demo")
                    .containsEntry("app.kubernetes.io/managed-by", "limedb-operator")
                    .containsKey("app.kubernetes.io/component");
        });
    }

    @Test
    void sameInputGivesEqualOutput() {
        assertThat(DesiredState.all(cluster(), SETTINGS)).isEqualTo(DesiredState.all(cluster(), SETTINGS));
        assertThat(hashes(cluster())).isEqualTo(hashes(cluster()));
    }

    @Test
    void podTemplatesCarryAConfigHash() {
        assertThat(hashes(cluster())).hasSize(4).allSatisfy((name, hash) -> assertThat(hash).matches("[0-9a-f]{16}"));
    }

    @Test
    void changesThatNeedNoRestartKeepEveryConfigHash() {
        assertKeepsHashes(c -> c.getSpec().coordinator.replicas = 7);
        assertKeepsHashes(c -> c.getSpec().coordinator.serviceType = "NodePort");
        assertKeepsHashes(c -> c.getSpec().coordinator.ports.resp = 7000);
        assertKeepsHashes(c -> c.getSpec().storage.size = "50Gi");
        assertKeepsHashes(c -> c.getSpec().failover.primaryUnavailableSeconds = 30);
        assertKeepsHashes(c -> c.getSpec().replicasPerShard = 5); // minInSync 2 stays 2, mode stays sync
    }

    @Test
    void changesThatNeedARestartChangeTheHashOfTheirPodsOnly() {
        var before = hashes(cluster());
        var c = cluster();
        c.getSpec().coordinator.resources = new ContainerResources(Map.of("memory", "1Gi"), null);
        var after = hashes(c);
        assertThat(after.get("demo-coordinator")).isNotEqualTo(before.get("demo-coordinator"));
        assertThat(after.get("demo-shard-0")).isEqualTo(before.get("demo-shard-0"));

        c = cluster();
        c.getSpec().image = "limedb/node:next";
        after = hashes(c);
        assertThat(after).allSatisfy((name, hash) -> assertThat(hash).isNotEqualTo(before.get(name)));

        c = cluster();
        c.getSpec().replication.minInSync = 3;
        after = hashes(c);
        assertThat(after.get("demo-shard-0")).isNotEqualTo(before.get("demo-shard-0"));
        assertThat(after.get("demo-coordinator")).isEqualTo(before.get("demo-coordinator"));
    }

    @Test
    void hashIgnoresMapOrderAndItsOwnAnnotation() {
        var c = cluster();
        var ordered = new LinkedHashMap<String, String>();
        ordered.put("a", "1");
        ordered.put("b", "2");
        c.getSpec().nodeSelector = ordered;
        var first = hashes(c);
        var reversed = new LinkedHashMap<String, String>();
        reversed.put("b", "2");
        reversed.put("a", "1");
        c.getSpec().nodeSelector = reversed;
        assertThat(hashes(c)).isEqualTo(first);

        var template = DesiredShard.podTemplate(cluster(), 0, SETTINGS);
        assertThat(ConfigHash.of(template)).isEqualTo(hash(template));
    }

    private static void assertKeepsHashes(Consumer<LimeCluster> change) {
        var c = cluster();
        change.accept(c);
        assertThat(hashes(c)).isEqualTo(hashes(cluster()));
    }

    /** Config hash of each workload (StatefulSet or Deployment) by name. */
    private static LinkedHashMap<String, String> hashes(LimeCluster cluster) {
        var hashes = new LinkedHashMap<String, String>();
        for (HasMetadata o : DesiredState.all(cluster, SETTINGS)) {
            if (o instanceof StatefulSet sts) {
                hashes.put(o.getMetadata().getName(), hash(sts.getSpec().getTemplate()));
            } else if (o instanceof Deployment d) {
                hashes.put(o.getMetadata().getName(), hash(d.getSpec().getTemplate()));
            }
        }
        return hashes;
    }

    private static String hash(PodTemplateSpec template) {
        return template.getMetadata().getAnnotations().get(ConfigHash.ANNOTATION);
    }
}
