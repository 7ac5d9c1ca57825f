package io.limedb.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.readiness.Readiness;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The operator on kind, as a user runs it: the chart is installed (by `make e2e`), a 3-shard x
 * 3-replica LimeCluster is applied, and a continuous writer through the coordinator Service counts
 * what was acknowledged while primaries are deleted, the operator is killed mid-failover, and a
 * second operator replica takes over, and the shards are scaled 3 -> 4 -> 2. Every scenario ends with
 * every acknowledged key read back.
 * Figures (ready time, failover times, client errors) are printed with an "e2e:" prefix.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorE2E {
    private static final String NAME = "e2e";
    /** Each shard member's memory limit (MiB): the suite runs its shards as sized pods, as users should. */
    private static final int SHARD_MEMORY = 512;
    private static final String OPERATOR_NS = System.getProperty("limedb.e2e.operator.namespace", "limedb-system");
    private static final String OPERATOR_LABEL = "app.kubernetes.io/name";
    private static final String OPERATOR_NAME = "limedb-operator";

    private KindCluster cluster;
    private LimeClusters limes;
    private LocalPortForward coordinatorPort;
    private final List<String> allAcknowledged = new ArrayList<>();

    @RegisterExtension
    final TestWatcher diagnostics = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster != null) cluster.dumpDiagnostics("operator-" + context.getDisplayName().replaceAll("\\W+", "_"));
            dumpOperatorLog(context.getDisplayName().replaceAll("\\W+", "_"));
        }
    };

    @BeforeAll
    void connect() {
        cluster = KindCluster.connect("lime-op");
        limes = new LimeClusters(cluster.client(), cluster.namespace());
        await("operator running").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> operatorPods().stream().anyMatch(Readiness::isPodReady));
    }

    @AfterAll
    void tearDown() throws Exception {
        if (coordinatorPort != null) coordinatorPort.close();
        if (cluster != null) cluster.close();
    }

    @Test
    @Order(1)
    void aLimeClusterBecomesReadyAndServesKeys() throws Exception {
        long t0 = System.nanoTime();
        limes.create("""
                apiVersion: limedb.io/v1alpha1
                kind: LimeCluster
                metadata: {name: e2e}
                spec:
                  shards: 3
                  replicasPerShard: 3
                  image: %s
                  imagePullPolicy: Never
                  storage: {size: 256Mi, whenDeleted: Delete}
                  resources: {limits: {memory: %s}}
                  coordinator: {replicas: 1}
                  failover: {primaryUnavailableSeconds: 3}
                """.formatted(System.getProperty("limedb.e2e.image", "limedb/node:e2e"), SHARD_MEMORY + "Mi"));
        await("LimeCluster Ready").atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(2))
                .until(() -> LimeClusters.ready(limes.get(NAME)));
        report("LimeCluster 3x3 Ready (apply to Ready=True)", t0);
        var lc = limes.get(NAME);
        assertThat(LimeClusters.status(lc)).containsEntry("phase", "Running").containsEntry("readyShards", 3)
                .containsEntry("ready", "3/3");
        assertThat(LimeClusters.shards(lc)).hasSize(3).allSatisfy(s -> {
            assertThat(String.valueOf(s.get("primary"))).startsWith("e2e-shard-");
            assertThat(((Number) s.get("epoch")).longValue()).isPositive();
            assertThat(s.get("readyReplicas")).isEqualTo(3);
        });
        var table = Kubectl.run("get", "lime", "-n", cluster.namespace());
        System.out.println("e2e: kubectl get lime\n" + table);
        assertThat(table.lines().findFirst().orElse("")).contains("NAME", "SHARDS", "REPLICAS", "READY", "PHASE", "RING",
                "AGE");
        assertThat(table).contains("e2e").contains("3/3").contains("Running");

        coordinatorPort = cluster.client().services().inNamespace(cluster.namespace()).withName("e2e-coordinator")
                .portForward(8080);
        var http = new CoordinatorHttp(coordinatorPort.getLocalPort());
        await("first write").atMost(Duration.ofMinutes(1)).ignoreExceptions()
                .until(() -> http.set("first", "1") == 200);
        long w0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        var results = new ArrayList<Future<Integer>>();
        for (int i = 0; i < 10_000; i++) {
            int k = i;
            results.add(pool.submit(() -> http.set("k" + k, "v" + k)));
        }
        for (var r : results) assertThat(r.get()).isEqualTo(200);
        report("10,000 keys written through the coordinator Service", w0);
        pool.shutdown();
        assertThat(missingInitialKeys(http)).as("keys not read back").isZero();
        assertOnePrimaryPerShard();
        // Each shard sized itself from its pod's memory limit (README, Memory), and none was killed for memory.
        var shardPods = shardPods();
        assertThat(shardPods).hasSize(9);
        String log = cluster.client().pods().inNamespace(cluster.namespace())
                .withName(shardPods.get(0).getMetadata().getName()).getLog();
        assertThat(log).contains("memory limit " + SHARD_MEMORY + " MiB: block cache");
        assertNoShardKilledForMemory();
    }

    private List<Pod> shardPods() {
        return cluster.client().pods().inNamespace(cluster.namespace())
                .withLabel("app.kubernetes.io/instance", NAME).withLabel("app.kubernetes.io/component", "shard").list()
                .getItems().stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    /** No shard container of the cluster was OOM-killed (now or before its last restart). */
    private void assertNoShardKilledForMemory() {
        for (Pod p : shardPods()) {
            for (var cs : p.getStatus().getContainerStatuses()) {
                var last = cs.getLastState() == null ? null : cs.getLastState().getTerminated();
                var now = cs.getState() == null ? null : cs.getState().getTerminated();
                assertThat(last == null ? "" : last.getReason()).as("%s last state", p.getMetadata().getName())
                        .isNotEqualTo("OOMKilled");
                assertThat(now == null ? "" : now.getReason()).as("%s state", p.getMetadata().getName())
                        .isNotEqualTo("OOMKilled");
            }
        }
    }

    @Test
    @Order(2)
    void aGracefullyDeletedPrimaryHandsOverWithoutLosingAcknowledgedWrites() throws Exception {
        failOverByDeletingThePrimary("shard-0", false);
    }

    @Test
    @Order(3)
    void aForceDeletedPrimaryIsReplaced() throws Exception {
        failOverByDeletingThePrimary("shard-1", true);
    }

    @Test
    @Order(4)
    void anOperatorKilledDuringAFailoverFinishesItAfterItsRestart() throws Exception {
        var before = limes.get(NAME);
        String shard = "shard-2";
        String old = LimeClusters.primary(before, shard);
        long epoch = LimeClusters.epoch(before, shard);
        try (var writer = new Writer(coordinatorPort.getLocalPort(), "op-kill", 4)) {
            Thread.sleep(1000);
            long t0 = System.nanoTime();
            deletePod(cluster.namespace(), old, true);
            Thread.sleep(400); // the operator has seen the pod gone and is failing over
            for (Pod p : operatorPods()) deletePod(OPERATOR_NS, p.getMetadata().getName(), true);
            var topology = cluster.client().configMaps().inNamespace(cluster.namespace()).withName(NAME + "-topology")
                    .get().getData().get("topology.json");
            System.out.println("e2e: operator killed " + (topology.contains("\"failover\"")
                    ? "with a failover recorded in the topology ConfigMap" : "before or after the failover's records")
                    + " (" + (System.nanoTime() - t0) / 1_000_000 + " ms after the primary's delete)");
            await("new primary after the operator's restart").atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofMillis(500)).until(() -> {
                        var lc = limes.get(NAME);
                        return LimeClusters.epoch(lc, shard) > epoch && LimeClusters.ready(lc);
                    });
            report("operator killed mid-failover: new primary and Ready", t0);
            Thread.sleep(1000);
            writer.close();
            System.out.println("e2e: writer during the operator kill: " + writer);
            verifyAcknowledged(writer);
        }
        assertOnePrimaryPerShard();
    }

    @Test
    @Order(5)
    void withTwoOperatorReplicasTheSecondTakesOverAndFailsOver() throws Exception {
        var deployment = cluster.client().apps().deployments().inNamespace(OPERATOR_NS).withLabel(OPERATOR_LABEL,
                OPERATOR_NAME).list().getItems().getFirst().getMetadata().getName();
        var ops = cluster.client().apps().deployments().inNamespace(OPERATOR_NS).withName(deployment);
        ops.scale(2);
        try {
            await("two operator pods ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> operatorPods().stream().filter(Readiness::isPodReady).count() == 2);
            var lease = cluster.client().leases().inNamespace(OPERATOR_NS).withName("limedb-operator-lease").get();
            String leader = lease.getSpec().getHolderIdentity();
            System.out.println("e2e: operator leader " + leader);
            var leaderPod = operatorPods().stream().filter(p -> leader.startsWith(p.getMetadata().getName())
                    || leader.contains(p.getMetadata().getName())).findFirst().orElseThrow();
            deletePod(OPERATOR_NS, leaderPod.getMetadata().getName(), true);
            await("another operator holds the lease").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        var l = cluster.client().leases().inNamespace(OPERATOR_NS).withName("limedb-operator-lease").get();
                        return l != null && !leader.equals(l.getSpec().getHolderIdentity());
                    });
            await("Ready under the new leader").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> LimeClusters.ready(limes.get(NAME)));
            failOverByDeletingThePrimary("shard-0", true);
        } finally {
            ops.scale(1);
        }
    }

    @Test
    @Order(6)
    @SuppressWarnings("unchecked")
    void changingReplicasPerShardRemovesAndAddsMembersWithoutLosingAcknowledgedWrites() throws Exception {
        try (var writer = new Writer(coordinatorPort.getLocalPort(), "resize", 4)) {
            for (int replicas : new int[] {2, 3}) {
                long t0 = System.nanoTime();
                limes.api().inNamespace(cluster.namespace()).withName(NAME).edit(r -> {
                    ((Map<String, Object>) r.getAdditionalProperties().get("spec")).put("replicasPerShard", replicas);
                    return r;
                });
                await("every shard with " + replicas + " ready members").atMost(Duration.ofMinutes(4))
                        .pollInterval(Duration.ofSeconds(1)).until(() -> {
                            var lc = limes.get(NAME);
                            return LimeClusters.ready(lc) && LimeClusters.shards(lc).stream()
                                    .allMatch(x -> Integer.valueOf(replicas).equals(x.get("readyReplicas")))
                                    && cluster.client().apps().statefulSets().inNamespace(cluster.namespace())
                                            .withLabel("app.kubernetes.io/instance", NAME).list().getItems().stream()
                                            .allMatch(sts -> sts.getSpec().getReplicas() == replicas);
                        });
                report("replicasPerShard -> " + replicas + ": Ready", t0);
            }
            writer.close();
            System.out.println("e2e: writer while resizing: " + writer);
            verifyAcknowledged(writer);
        }
        assertOnePrimaryPerShard();
    }

    @Test
    @Order(7)
    void scalingShards3To4To2UnderAWriterKeepsEveryAcknowledgedKey() throws Exception {
        try (var writer = new Writer(coordinatorPort.getLocalPort(), "reshard", 4)) {
            Thread.sleep(1000);
            scaleShards(4, true, writer);
            scaleShards(2, false, writer);
            Thread.sleep(1000);
            writer.close();
            System.out.println("e2e: writer while scaling 3 -> 4 -> 2 shards: " + writer);
            verifyAcknowledged(writer);
        }
        verifyInitialKeys();
        var table = Kubectl.run("get", "lime", "-n", cluster.namespace());
        System.out.println("e2e: kubectl get lime\n" + table);
        assertThat(table.lines().findFirst().orElse("")).contains("PHASE", "RESHARDING", "RING");
        assertOnePrimaryPerShard();
        assertNoShardKilledForMemory();
    }

    @Test
    @Order(8)
    void invalidSpecsAreRejectedWithAMessageThatSaysWhatToChange() {
        String base = """
                apiVersion: limedb.io/v1alpha1
                kind: LimeCluster
                metadata: {name: bad}
                spec:
                """;
        Map<String, String> cases = Map.of(
                "  shards: 0\n", "shards",
                "  shards: 300\n", "shards",
                "  replicasPerShard: 9\n", "replicasPerShard",
                "  replicasPerShard: 2\n  replication: {minInSync: 3}\n", "must be <= replicasPerShard",
                "  replication: {mode: eventual}\n", "mode",
                "  storage: {whenDeleted: Shred}\n", "whenDeleted",
                "  coordinator: {serviceType: Magic}\n", "serviceType");
        for (var c : cases.entrySet()) {
            assertThatThrownBy(() -> limes.create(base + c.getKey())).as(c.getKey())
                    .isInstanceOf(KubernetesClientException.class).hasMessageContaining(c.getValue());
        }
        var lc = limes.get(NAME);
        var spec = (Map<String, Object>) lc.getAdditionalProperties().get("spec");
        @SuppressWarnings("unchecked")
        var storage = (Map<String, Object>) spec.get("storage");
        storage.put("size", "128Mi");
        assertThatThrownBy(() -> limes.api().inNamespace(cluster.namespace()).resource(lc).update())
                .hasMessageContaining("storage.size cannot shrink");
        var fresh = limes.get(NAME);
        @SuppressWarnings("unchecked")
        var storage2 = (Map<String, Object>) ((Map<String, Object>) fresh.getAdditionalProperties().get("spec")).get("storage");
        storage2.put("storageClassName", "other");
        assertThatThrownBy(() -> limes.api().inNamespace(cluster.namespace()).resource(fresh).update())
                .hasMessageContaining("storageClassName is immutable");
    }

    /**
     * A LimeCluster stored before the CRD's quantity rule existed: the operator used to fail reading it, and
     * that stopped its watch of every LimeCluster. Now that cluster gets InvalidSpec with the field named, nothing
     * is built for it, and a change to the other cluster is still applied.
     */
    @Test
    @Order(9)
    @SuppressWarnings("unchecked")
    void aSpecStoredBeforeARuleExistedIsReportedAndDoesNotStopTheOtherClusters() throws Exception {
        var crds = cluster.client().apiextensions().v1().customResourceDefinitions();
        var crd = crds.withName("limeclusters.limedb.io").get();
        var resources = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties()
                .get("spec").getProperties().get("resources");
        var rules = resources.getXKubernetesValidations();
        assertThat(rules).as("the installed CRD's rule on spec.resources").isNotEmpty();
        String stale = """
                apiVersion: limedb.io/v1alpha1
                kind: LimeCluster
                metadata: {name: stale}
                spec:
                  shards: 1
                  replicasPerShard: 1
                  replication: {minInSync: 1}
                  coordinator: {replicas: 0}
                  resources: {limits: {memory: 'limedb/node:e2e'}}
                """;
        resources.setXKubernetesValidations(null);
        crds.resource(crd).update();
        try {
            await("the API server stores a bad quantity without the rule").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> limes.create(stale) != null);
        } finally {
            var now = crds.withName("limeclusters.limedb.io").get();
            now.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec")
                    .getProperties().get("resources").setXKubernetesValidations(rules);
            crds.resource(now).update();
        }
        long t0 = System.nanoTime();
        await("stale: InvalidSpec naming the field").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    var r = limes.get("stale");
                    return r != null && "Failed".equals(LimeClusters.status(r).get("phase"))
                            && LimeClusters.conditionMessage(r, "Ready").contains(
                                    "spec.resources.limits.memory: \"limedb/node:e2e\" is not a quantity");
                });
        report("a LimeCluster with a stored bad quantity reported InvalidSpec", t0);
        assertThat(cluster.client().apps().statefulSets().inNamespace(cluster.namespace())
                .withLabel("app.kubernetes.io/instance", "stale").list().getItems()).as("nothing built for it").isEmpty();

        // the watch of every LimeCluster goes on: a change to the main cluster is applied
        var main = limes.get(NAME);
        var failover = (Map<String, Object>) ((Map<String, Object>) main.getAdditionalProperties().get("spec"))
                .get("failover");
        failover.put("primaryUnavailableSeconds", 4);
        long generation = limes.api().inNamespace(cluster.namespace()).resource(main).update().getMetadata()
                .getGeneration();
        t0 = System.nanoTime();
        await("the main cluster's new generation applied").atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    var r = limes.get(NAME);
                    return r.getMetadata().getGeneration() == generation && LimeClusters.ready(r);
                });
        report("the other LimeCluster's change applied meanwhile", t0);
        limes.api().inNamespace(cluster.namespace()).withName("stale").delete();
        await("stale deleted").atMost(Duration.ofMinutes(1)).until(() -> limes.get("stale") == null);
        assertThat(operatorPods()).as("the operator kept running").allMatch(Readiness::isPodReady);
    }

    @Test
    @Order(10)
    void deletingTheLimeClusterRemovesWhatItOwnsAndItsVolumes() {
        limes.api().inNamespace(cluster.namespace()).withName(NAME).delete();
        var ns = cluster.namespace();
        var c = cluster.client();
        await("owned objects gone").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2)).until(() ->
                c.apps().statefulSets().inNamespace(ns).withLabel("app.kubernetes.io/instance", NAME).list().getItems().isEmpty()
                && c.apps().deployments().inNamespace(ns).withLabel("app.kubernetes.io/instance", NAME).list().getItems().isEmpty()
                && c.services().inNamespace(ns).withLabel("app.kubernetes.io/instance", NAME).list().getItems().isEmpty()
                && c.configMaps().inNamespace(ns).withLabel("app.kubernetes.io/instance", NAME).list().getItems().isEmpty()
                && c.pods().inNamespace(ns).withLabel("app.kubernetes.io/instance", NAME).list().getItems().isEmpty());
        await("volumes deleted (storage.whenDeleted: Delete)").atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofSeconds(2))
                .until(() -> c.persistentVolumeClaims().inNamespace(ns).list().getItems().isEmpty());
    }

    // --- helpers ---

    /**
     * Changes spec.shards (by `kubectl scale`, or by editing the spec) and waits until the cluster is Ready
     * at that many shards with no resharding left and no StatefulSet of a removed shard; prints how long each
     * step took, what moved (the ReshardingCompleted event) and what the writer saw meanwhile.
     */
    @SuppressWarnings("unchecked")
    private void scaleShards(int to, boolean kubectlScale, Writer writer) throws Exception {
        var before = limes.get(NAME);
        int from = ((Number) LimeClusters.status(before).get("currentShards")).intValue();
        long acked = writer.acknowledged.size();
        long notApplied = writer.notApplied.get();
        long unknown = writer.unknown.get();
        long t0 = System.nanoTime();
        var since = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS); // events keep seconds
        if (kubectlScale) {
            Kubectl.run("scale", "lime/" + NAME, "--replicas=" + to, "-n", cluster.namespace());
        } else {
            limes.api().inNamespace(cluster.namespace()).withName(NAME).edit(r -> {
                ((Map<String, Object>) r.getAdditionalProperties().get("spec")).put("shards", to);
                return r;
            });
        }
        var steps = new java.util.LinkedHashMap<String, Double>();
        int[] readySamples = new int[2];
        var notReady = new java.util.LinkedHashSet<String>();
        await("Ready at " + to + " shards").atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    var lc = limes.get(NAME);
                    var st = LimeClusters.status(lc);
                    var rs = st.get("resharding") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.<String, Object>of();
                    if (!rs.isEmpty()) {
                        steps.putIfAbsent(String.valueOf(rs.get("step")), (System.nanoTime() - t0) / 1e9);
                        if ("Moving".equals(rs.get("step"))) {
                            readySamples[0]++;
                            if (LimeClusters.condition(lc, "Ready").orElse("").equals("True")) readySamples[1]++;
                            else notReady.add(LimeClusters.conditionMessage(lc, "Ready"));
                        }
                    }
                    var sts = cluster.client().apps().statefulSets().inNamespace(cluster.namespace())
                            .withLabel("app.kubernetes.io/instance", NAME).list().getItems().stream()
                            .filter(x -> x.getMetadata().getDeletionTimestamp() == null).count();
                    return LimeClusters.ready(lc) && "Running".equals(st.get("phase")) && rs.isEmpty()
                            && Integer.valueOf(to).equals(st.get("currentShards")) && sts == to;
                });
        double readyAfter = (System.nanoTime() - t0) / 1e9;
        for (int i = to; i < from; i++) {
            assertThat(cluster.client().apps().statefulSets().inNamespace(cluster.namespace())
                    .withName(NAME + "-shard-" + i).get()).as("StatefulSet of removed shard-" + i).isNull();
        }
        var lc = limes.get(NAME);
        assertThat(LimeClusters.shards(lc)).hasSize(to);
        var completed = cluster.client().v1().events().inNamespace(cluster.namespace()).list().getItems().stream()
                .filter(e -> "ReshardingCompleted".equals(e.getReason()))
                .map(io.fabric8.kubernetes.api.model.Event::getMessage)
                .filter(m -> m.contains("ring " + java.util.stream.IntStream.range(0, to).mapToObj(i -> "shard-" + i)
                        .toList() + " ")).toList();
        assertThat(completed).as("a ReshardingCompleted event for the ring of " + to + " shards").isNotEmpty();
        var reasons = cluster.client().v1().events().inNamespace(cluster.namespace()).list().getItems().stream()
                .filter(e -> e.getLastTimestamp() == null || !java.time.Instant.parse(e.getLastTimestamp()).isBefore(since))
                .map(io.fabric8.kubernetes.api.model.Event::getReason).collect(java.util.stream.Collectors
                        .groupingBy(r -> r, java.util.TreeMap::new, java.util.stream.Collectors.counting()));
        System.out.printf("e2e: shards %d -> %d (%s): Ready at %d shards after %.1f s; steps first seen at %s; "
                        + "Ready=True in %d of %d samples while ranges moved%s; %s; events %s; writer meanwhile: "
                        + "%d acknowledged, %d not applied, %d unknown%n", from, to,
                kubectlScale ? "kubectl scale" : "spec.shards edited", to, readyAfter, steps, readySamples[1],
                readySamples[0], notReady.isEmpty() ? "" : " (otherwise: " + notReady + ")", completed.getLast(), reasons,
                writer.acknowledged.size() - acked,
                writer.notApplied.get() - notApplied, writer.unknown.get() - unknown);
        assertThat(reasons).containsKeys("ReshardingStarted", "MoveFlipped", "ReshardingCompleted");
    }

    /** The 10,000 keys of the first scenario, read back after their ranges moved. */
    private void verifyInitialKeys() throws Exception {
        long bad = missingInitialKeys(new CoordinatorHttp(coordinatorPort.getLocalPort()));
        System.out.printf("e2e: the first 10,000 keys after resharding: %d missing or wrong%n", bad);
        assertThat(bad).as("keys of the first scenario lost").isZero();
    }

    /** How many of the first scenario's 10,000 keys ("k0".."k9999" = "v0".."v9999") do not read back. */
    private static long missingInitialKeys(CoordinatorHttp http) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            var reads = new ArrayList<Future<Boolean>>();
            for (int i = 0; i < 10_000; i++) {
                int k = i;
                reads.add(pool.submit(() -> http.get("k" + k).orElse("").equals("v" + k)));
            }
            long bad = 0;
            for (var r : reads) if (!r.get()) bad++;
            return bad;
        } finally {
            pool.shutdown();
        }
    }

    private void failOverByDeletingThePrimary(String shard, boolean force) throws Exception {
        var before = limes.get(NAME);
        String old = LimeClusters.primary(before, shard);
        long epoch = LimeClusters.epoch(before, shard);
        assertThat(old).as("status names the primary of " + shard).isNotEmpty();
        String how = force ? "kubectl delete pod --force --grace-period=0" : "kubectl delete pod";
        try (var writer = new Writer(coordinatorPort.getLocalPort(), shard + (force ? "-force" : "-graceful"), 4)) {
            Thread.sleep(2000);
            long errorsBefore = writer.errors();
            long t0 = System.nanoTime();
            deletePod(cluster.namespace(), old, force);
            await("new primary of " + shard).atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        var lc = limes.get(NAME);
                        return LimeClusters.epoch(lc, shard) > epoch && !LimeClusters.primary(lc, shard).equals(old);
                    });
            long published = System.nanoTime();
            var failures = writer.failureNanos.stream().filter(n -> n >= t0).sorted().toList();
            long lastFailure = failures.isEmpty() ? t0 : failures.getLast();
            long firstAckAfter = writer.firstAckAfter(lastFailure, Duration.ofSeconds(30));
            double gapMs = writer.longestGapMs(t0, Math.max(published, firstAckAfter));
            await("Ready again").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> LimeClusters.ready(limes.get(NAME)));
            long readyAgain = System.nanoTime();
            Thread.sleep(1000);
            writer.close();
            var after = limes.get(NAME);
            System.out.printf("e2e: %s of primary %s (%s, epoch %d): new primary %s at epoch %d published after %.2f s; "
                    + "first acknowledged write after the last failure %.2f s after the delete; longest gap without "
                    + "acknowledgements %.0f ms; client errors %d (%d not applied, %d unknown); "
                    + "Ready again after %.1f s; writer: %s%n", how, old, shard, epoch, LimeClusters.primary(after, shard),
                    LimeClusters.epoch(after, shard), (published - t0) / 1e9,
                    firstAckAfter < 0 ? -1 : (firstAckAfter - t0) / 1e9, gapMs, writer.errors() - errorsBefore,
                    writer.notApplied.get(), writer.unknown.get(), (readyAgain - t0) / 1e9, writer);
            var events = cluster.client().v1().events().inNamespace(cluster.namespace()).list().getItems().stream()
                    .filter(e -> "FailoverCompleted".equals(e.getReason()) && e.getMessage().contains(shard + ": primary " + old))
                    .toList();
            assertThat(events).as("a FailoverCompleted event names the old primary, the new and the epoch").isNotEmpty();
            assertThat(events.getLast().getMessage()).contains("epoch " + epoch + " -> " + LimeClusters.epoch(after, shard));
            verifyAcknowledged(writer);
        }
        assertOnePrimaryPerShard();
    }

    private void verifyAcknowledged(Writer writer) throws Exception {
        var http = new CoordinatorHttp(coordinatorPort.getLocalPort());
        var keys = writer.keys();
        assertThat(keys).as("the writer got acknowledgements").isNotEmpty();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        var lost = new ArrayList<Future<String>>();
        for (String k : keys) {
            lost.add(pool.submit(() -> {
                for (int attempt = 0; ; attempt++) {
                    try {
                        return http.get(k).orElse("").equals("v-" + k) ? null : k;
                    } catch (IOException e) {
                        if (attempt >= 20) throw e;
                        Thread.sleep(250);
                    }
                }
            }));
        }
        var missing = new ArrayList<String>();
        for (var f : lost) if (f.get() != null) missing.add(f.get());
        pool.shutdown();
        allAcknowledged.addAll(keys);
        System.out.printf("e2e: acknowledged %d, lost %d%n", keys.size(), missing.size());
        assertThat(missing).as("acknowledged writes lost").isEmpty();
    }

    /** Asks every shard pod for its role (its metrics) and checks one primary per shard. */
    private void assertOnePrimaryPerShard() throws Exception {
        await("one primary per shard").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                .ignoreExceptions().untilAsserted(() -> {
                    var lc = limes.get(NAME);
                    int shards = ((Number) LimeClusters.status(lc).get("currentShards")).intValue();
                    int members = ((Number) ((Map<?, ?>) lc.getAdditionalProperties().get("spec")).get("replicasPerShard"))
                            .intValue();
                    for (int s = 0; s < shards; s++) {
                        int primaries = 0;
                        for (int m = 0; m < members; m++) {
                            if (role(NAME + "-shard-" + s + "-" + m) == 1) primaries++;
                        }
                        assertThat(primaries).as("primaries of shard-" + s).isEqualTo(1);
                    }
                });
    }

    private int role(String pod) throws Exception {
        try (var pf = cluster.client().pods().inNamespace(cluster.namespace()).withName(pod).portForward(8080)) {
            var http = HttpClient.newHttpClient();
            var body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pf.getLocalPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            return body.lines().filter(l -> l.startsWith("limedb_replication_role")).findFirst()
                    .map(l -> (int) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(-1);
        }
    }

    private List<Pod> operatorPods() {
        return cluster.client().pods().inNamespace(OPERATOR_NS).withLabel(OPERATOR_LABEL, OPERATOR_NAME).list()
                .getItems().stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    private void deletePod(String ns, String name, boolean force) {
        var pod = cluster.client().pods().inNamespace(ns).withName(name);
        if (force) pod.withGracePeriod(0).delete();
        else pod.delete();
    }

    private void dumpOperatorLog(String test) {
        try {
            var dir = java.nio.file.Path.of("target", "e2e-diagnostics", "operator-" + test);
            java.nio.file.Files.createDirectories(dir);
            for (Pod p : cluster.client().pods().inNamespace(OPERATOR_NS).list().getItems()) {
                java.nio.file.Files.writeString(dir.resolve(p.getMetadata().getName() + ".log"),
                        cluster.client().pods().inNamespace(OPERATOR_NS).withName(p.getMetadata().getName()).getLog(),
                        StandardCharsets.UTF_8);
            }
        } catch (Exception e) {
            System.err.println("e2e: cannot dump operator logs: " + e);
        }
    }

    private void report(String what, long sinceNanos) {
        System.out.printf("e2e: %s after %.1f s (namespace %s)%n", what, (System.nanoTime() - sinceNanos) / 1e9,
                cluster.namespace());
    }
}
