package io.limedb.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.readiness.Readiness;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One shard StatefulSet with a PVC and one coordinator, deployed by plain manifests on kind: a key
 * written through the coordinator survives the loss of the shard's pod, because the pod comes back
 * on the same volume.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShardRestartE2E {

    private static final Duration STARTUP = Duration.ofMinutes(4);
    private static final String SHARD_POD = "shard-0-0";

    private KindCluster cluster;
    private LocalPortForward coordinatorPort;
    private CoordinatorHttp coordinator;

    @RegisterExtension
    final TestWatcher diagnostics = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster != null) {
                cluster.dumpDiagnostics(context.getDisplayName().replaceAll("\\W+", "_"));
            }
        }
    };

    @BeforeAll
    void deploy() {
        cluster = KindCluster.connect("limedb-e2e");
        var image = System.getProperty("limedb.e2e.image", "limedb/node:e2e");
        var started = System.nanoTime();
        cluster.apply("limedb-one-shard.yaml", Map.of("NAMESPACE", cluster.namespace(), "IMAGE", image));
        try {
            awaitReady();
            report("shard and coordinator Ready", started);
        } catch (RuntimeException e) {
            cluster.dumpDiagnostics("deploy");
            throw e;
        }
        var pod = cluster.client().pods().inNamespace(cluster.namespace()).withLabel("role", "coordinator")
                .list().getItems().getFirst();
        coordinatorPort = cluster.client().pods().inNamespace(cluster.namespace())
                .withName(pod.getMetadata().getName()).portForward(8080);
        coordinator = new CoordinatorHttp(coordinatorPort.getLocalPort());
    }

    @AfterAll
    void tearDown() throws Exception {
        if (coordinatorPort != null) {
            coordinatorPort.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void keySurvivesShardPodRestartOnSamePvc() throws Exception {
        // The coordinator may be Ready a moment before its connection to the shard is.
        await("first write").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(() -> coordinator.set("e2e-key", "e2e-value") == 200);
        assertThat(coordinator.get("e2e-key")).contains("e2e-value");

        var before = shardPod();
        var claim = boundVolume();
        var deleted = System.nanoTime();
        cluster.client().pods().inNamespace(cluster.namespace()).withName(SHARD_POD).delete();

        await("shard pod replaced and Ready").atMost(STARTUP).pollInterval(Duration.ofSeconds(2)).until(() -> {
            var now = cluster.client().pods().inNamespace(cluster.namespace()).withName(SHARD_POD).get();
            return now != null && !now.getMetadata().getUid().equals(before.getMetadata().getUid())
                    && Readiness.isPodReady(now);
        });
        report("shard pod replaced and Ready", deleted);
        assertThat(boundVolume()).as("the new pod's claim is bound to the same volume").isEqualTo(claim);

        await("key read back after the restart").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(() -> coordinator.get("e2e-key").equals(Optional.of("e2e-value")));
        report("key read back through the coordinator", deleted);
        assertThat(coordinator.get("e2e-missing-key")).isEmpty();
    }

    private void report(String what, long sinceNanos) {
        System.out.printf("e2e: %s after %.1f s (namespace %s)%n", what, (System.nanoTime() - sinceNanos) / 1e9,
                cluster.namespace());
    }

    private void awaitReady() {
        var apps = cluster.client().apps();
        await("shard StatefulSet ready").atMost(STARTUP).pollInterval(Duration.ofSeconds(2)).until(() -> {
            var sts = apps.statefulSets().inNamespace(cluster.namespace()).withName("shard-0").get();
            return sts.getStatus() != null && Integer.valueOf(1).equals(sts.getStatus().getReadyReplicas());
        });
        await("coordinator Deployment available").atMost(STARTUP).pollInterval(Duration.ofSeconds(2)).until(() -> {
            var dep = apps.deployments().inNamespace(cluster.namespace()).withName("coordinator").get();
            return dep.getStatus() != null && Integer.valueOf(1).equals(dep.getStatus().getReadyReplicas());
        });
    }

    private Pod shardPod() {
        return cluster.client().pods().inNamespace(cluster.namespace()).withName(SHARD_POD).get();
    }

    /** The PersistentVolume bound to the shard's claim. */
    private String boundVolume() {
        var pvc = cluster.client().persistentVolumeClaims().inNamespace(cluster.namespace())
                .withName("data-" + SHARD_POD).get();
        assertThat(pvc.getStatus().getPhase()).isEqualTo("Bound");
        return pvc.getSpec().getVolumeName();
    }
}
