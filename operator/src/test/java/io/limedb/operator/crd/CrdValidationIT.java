package io.limedb.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.limedb.operator.testing.LocalKubeApiServer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The committed LimeCluster CRD on a real kube-apiserver: defaults, bounds, enums and CEL rules answer with a
 * message that says what to change; scale and status are subresources; kubectl explain and get read it right.
 */
class CrdValidationIT {
    private static final String NS = "default";
    private static final ResourceDefinitionContext LIME = new ResourceDefinitionContext.Builder()
            .withGroup(LimeCluster.GROUP).withVersion(LimeCluster.VERSION).withKind("LimeCluster")
            .withPlural("limeclusters").withNamespaced(true).build();
    private static final AtomicInteger names = new AtomicInteger();

    private static LocalKubeApiServer apiServer;
    private static KubernetesClient client;
    private static long startedAt;

    @BeforeAll
    static void startApiServerAndApplyCrd() {
        startedAt = System.nanoTime();
        apiServer = LocalKubeApiServer.start();
        client = apiServer.client();
        long up = System.nanoTime();
        var crd = client.apiextensions().v1().customResourceDefinitions()
                .load(CrdGeneration.repoRoot().resolve(CrdGeneration.COMMITTED.get(0)).toFile()).item();
        client.resource(crd).create();
        client.resource(crd).waitUntilCondition(CrdValidationIT::established, 30, TimeUnit.SECONDS);
        System.out.printf("CrdValidationIT: kube-apiserver + etcd up in %d ms, CRD established in %d ms%n",
                (up - startedAt) / 1_000_000, (System.nanoTime() - up) / 1_000_000);
    }

    @AfterAll
    static void stop() {
        if (apiServer != null) {
            apiServer.close();
            System.out.printf("CrdValidationIT: %d ms in all, API server start and stop included%n",
                    (System.nanoTime() - startedAt) / 1_000_000);
        }
    }

    @Test
    void aMinimalSpecIsAcceptedAndDefaulted() {
        var created = create("{}");
        assertThat(spec(created)).containsEntry("shards", 3).containsEntry("replicasPerShard", 3)
                .containsEntry("vnodesPerShard", 256).containsEntry("imagePullPolicy", "IfNotPresent");
        assertThat(map(spec(created), "replication")).containsEntry("mode", "sync").containsEntry("minInSync", 2)
                .containsEntry("maxLagOnFailover", 100000);
        assertThat(map(spec(created), "storage")).containsEntry("size", "1Gi").containsEntry("whenDeleted", "Retain")
                .doesNotContainKey("storageClassName");
        assertThat(map(spec(created), "coordinator")).containsEntry("replicas", 2)
                .containsEntry("serviceType", "ClusterIP");
        assertThat(map(map(spec(created), "coordinator"), "ports")).containsEntry("resp", 6379)
                .containsEntry("http", 8080).containsEntry("grpc", 9090);
        assertThat(map(spec(created), "failover")).containsEntry("enabled", true)
                .containsEntry("primaryUnavailableSeconds", 5);
    }

    @Test
    void aMissingSpecIsDefaultedLikeAnEmptyOne() {
        var created = client.genericKubernetesResources(LIME).inNamespace(NS).resource(Serialization.unmarshal(
                "apiVersion: limedb.io/v1alpha1\nkind: LimeCluster\nmetadata: {name: no-spec}",
                GenericKubernetesResource.class)).create();
        assertThat(spec(created)).containsEntry("shards", 3).containsEntry("replicasPerShard", 3);
        assertThat(map(spec(created), "replication")).containsEntry("minInSync", 2);
    }

    @Test
    void theTypedModelReadsWhatTheApiServerDefaulted() {
        var name = create("{shards: 5}").getMetadata().getName();
        var lime = client.resources(LimeCluster.class).inNamespace(NS).withName(name).get();
        assertThat(lime.getSpec().shards).isEqualTo(5);
        assertThat(lime.getSpec().replication.minInSync).isEqualTo(2);
        assertThat(lime.getSpec().storage.size).isEqualTo("1Gi");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {shards: 0}                                    | spec.shards in body should be greater than or equal to 1
            {shards: 257}                                  | spec.shards in body should be less than or equal to 256
            {replicasPerShard: 0}                          | spec.replicasPerShard in body should be greater than or equal to 1
            {replicasPerShard: 8}                          | spec.replicasPerShard in body should be less than or equal to 7
            {vnodesPerShard: 0}                            | spec.vnodesPerShard in body should be greater than or equal to 1
            {vnodesPerShard: 4097}                         | spec.vnodesPerShard in body should be less than or equal to 4096
            {replication: {minInSync: 0}}                  | spec.replication.minInSync in body should be greater than or equal to 1
            {replication: {maxLagOnFailover: -1}}          | spec.replication.maxLagOnFailover in body should be greater than or equal to 0
            {coordinator: {replicas: 65}}                  | spec.coordinator.replicas in body should be less than or equal to 64
            {coordinator: {ports: {resp: 0}}}              | spec.coordinator.ports.resp in body should be greater than or equal to 1
            {coordinator: {ports: {grpc: 65536}}}          | spec.coordinator.ports.grpc in body should be less than or equal to 65535
            {failover: {primaryUnavailableSeconds: 301}}   | spec.failover.primaryUnavailableSeconds in body should be less than or equal to 300
            """)
    void boundsAreEnforced(String spec, String message) {
        assertThat(rejection(() -> create(spec))).contains(message);
    }

    // the generator lists enum values sorted, and the API server names them in that order
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {imagePullPolicy: Sometimes}             | spec.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"
            {coordinator: {serviceType: External}}   | spec.coordinator.serviceType: Unsupported value: "External": supported values: "ClusterIP", "LoadBalancer", "NodePort"
            {replication: {mode: semisync}}          | spec.replication.mode: Unsupported value: "semisync": supported values: "async", "sync"
            {storage: {whenDeleted: Keep}}           | spec.storage.whenDeleted: Unsupported value: "Keep": supported values: "Delete", "Retain"
            """)
    void enumsAreEnforced(String spec, String message) {
        assertThat(rejection(() -> create(spec))).contains(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {storage: {size: '0'}}     | spec.storage.size: Invalid value: "string": storage.size must be a positive quantity such as 10Gi
            {storage: {size: 0Gi}}     | spec.storage.size: Invalid value: "string": storage.size must be a positive quantity such as 10Gi
            {storage: {size: 500m}}    | spec.storage.size in body should match
            {storage: {size: ten}}     | spec.storage.size in body should match
            {storage: {size: -1Gi}}    | spec.storage.size in body should match
            """)
    void storageSizeIsAPositiveQuantity(String spec, String message) {
        assertThat(rejection(() -> create(spec))).contains(message);
    }

    // The API server's schema of resources takes any string; the operator could not read a LimeCluster
    // with one that is not a quantity (its watch of every LimeCluster stopped), so the CRD refuses it.
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {resources: {limits: {memory: 'limedb/node:e2e'}}}           | spec.resources: Invalid value: "object": cpu and memory in resources.limits and resources.requests must be quantities
            {resources: {requests: {cpu: lots}}}                        | spec.resources: Invalid value: "object": cpu and memory in resources.limits and resources.requests must be quantities
            {coordinator: {resources: {limits: {memory: 1 GB}}}}        | spec.coordinator.resources: Invalid value: "object": cpu and memory
            """)
    void resourcesAreQuantities(String spec, String message) {
        assertThat(rejection(() -> create(spec))).contains(message);
    }

    @Test
    void resourcesThatAreQuantitiesAreAccepted() {
        create("{resources: {limits: {memory: 512Mi, cpu: 2}, requests: {memory: 536870912, cpu: 500m}}, "
                + "coordinator: {resources: {limits: {memory: 1Gi}}}}");
    }

    // A LimeCluster stored before the rule above existed (or with a quantity the API server and fabric8 read
    // differently): the operator reads every LimeCluster through one typed list and watch, which threw on it and
    // stopped for all of them. Now the list reads it, and the spec names what is wrong (its InvalidSpec status).
    @Test
    void aBadQuantityStoredBeforeTheRuleDoesNotStopReadingEveryLimeCluster() {
        var good = create("{resources: {limits: {memory: 1Gi}}}").getMetadata().getName();
        String badSpec = "{resources: {limits: {memory: 'limedb/node:e2e'}}}";
        String bad;
        setQuantityRule(false);
        try {
            bad = Awaitility.await("the API server stores a bad quantity without the rule").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> create(badSpec).getMetadata().getName(), n -> true);
        } finally {
            setQuantityRule(true);
            Awaitility.await("the API server refuses a bad quantity again").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200)).until(() -> {
                        try {
                            client.genericKubernetesResources(LIME).inNamespace(NS)
                                    .withName(create(badSpec).getMetadata().getName()).delete();
                            return false;
                        } catch (KubernetesClientException e) {
                            return e.getCode() == 422;
                        }
                    });
        }
        var all = client.resources(LimeCluster.class).inNamespace(NS).list().getItems();
        assertThat(all).extracting(l -> l.getMetadata().getName()).contains(good, bad);
        var read = all.stream().filter(l -> l.getMetadata().getName().equals(bad)).findFirst().orElseThrow();
        assertThat(read.getSpec().problems()).containsExactly(
                "spec.resources.limits.memory: \"limedb/node:e2e\" is not a quantity (such as 512Mi, 1Gi, 500m or 2)");
        assertThat(all.stream().filter(l -> l.getMetadata().getName().equals(good)).findFirst().orElseThrow()
                .getSpec().problems()).isEmpty();
    }

    /** Takes the quantity rule off spec.resources in the stored CRD, or puts the committed one back. */
    private static void setQuantityRule(boolean on) {
        var committed = client.apiextensions().v1().customResourceDefinitions()
                .load(CrdGeneration.repoRoot().resolve(CrdGeneration.COMMITTED.get(0)).toFile()).item();
        var crd = client.apiextensions().v1().customResourceDefinitions().withName(committed.getMetadata().getName())
                .get();
        var stored = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec")
                .getProperties().get("resources");
        var rules = committed.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties()
                .get("spec").getProperties().get("resources").getXKubernetesValidations();
        assertThat(rules).as("the committed CRD's rules on spec.resources").isNotEmpty();
        stored.setXKubernetesValidations(on ? rules : null);
        client.resource(crd).update();
    }

    @Nested
    class MinInSync {
        @Test
        void aSingleReplicaMustSayMinInSyncOneBecauseTheDefaultIsTwo() {
            assertThat(rejection(() -> create("{replicasPerShard: 1}"))).contains(
                    "spec.replication.minInSync: Invalid value: \"object\": replication.minInSync (default 2) must be "
                            + "<= replicasPerShard: set replication.minInSync to at most replicasPerShard (1 with a "
                            + "single member per shard), or raise replicasPerShard");
            assertThat(spec(create("{replicasPerShard: 1, replication: {minInSync: 1}}")))
                    .containsEntry("replicasPerShard", 1);
        }

        @Test
        void twoReplicasPassWithTheDefault() {
            assertThat(map(spec(create("{replicasPerShard: 2}")), "replication")).containsEntry("minInSync", 2);
        }

        @Test
        void moreThanTheMembersIsRejectedOnCreateAndUpdate() {
            assertThat(rejection(() -> create("{replicasPerShard: 3, replication: {minInSync: 4}}")))
                    .contains("spec.replication.minInSync: Invalid value: \"object\": replication.minInSync (default "
                            + "2) must be <= replicasPerShard");
            var name = create("{replicasPerShard: 3}").getMetadata().getName();
            assertThat(rejection(() -> patch(name, "{spec: {replicasPerShard: 1}}")))
                    .contains("replication.minInSync (default 2) must be <= replicasPerShard");
        }
    }

    @Test
    void vnodesPerShardIsImmutable() {
        var name = create("{vnodesPerShard: 128}").getMetadata().getName();
        assertThat(rejection(() -> patch(name, "{spec: {vnodesPerShard: 256}}"))).contains(
                "spec.vnodesPerShard: Invalid value: \"integer\": vnodesPerShard is immutable (it decides where every "
                        + "key lives): set it back to its value at creation");
        assertThat(spec(patch(name, "{spec: {shards: 4}}"))).containsEntry("vnodesPerShard", 128);
    }

    @Test
    void storageClassIsImmutableEvenFromUnset() {
        var unset = create("{}").getMetadata().getName();
        assertThat(rejection(() -> patch(unset, "{spec: {storage: {storageClassName: fast}}}"))).contains(
                "spec.storage.storageClassName: Invalid value: \"object\": storage.storageClassName is immutable: it "
                        + "was unset at creation (the cluster default), leave it unset; a new cluster can use another "
                        + "class");

        var set = create("{storage: {storageClassName: standard}}").getMetadata().getName();
        assertThat(rejection(() -> patch(set, "{spec: {storage: {storageClassName: fast}}}")))
                .contains("storage.storageClassName is immutable: keep \"standard\"");
        assertThat(rejection(() -> patch(set, "{spec: {storage: {storageClassName: null}}}")))
                .contains("storage.storageClassName is immutable: keep \"standard\"");
        assertThat(map(spec(patch(set, "{spec: {storage: {storageClassName: standard, size: 2Gi}}}")), "storage"))
                .containsEntry("storageClassName", "standard").containsEntry("size", "2Gi");
    }

    @Test
    void storageGrowsButNeverShrinks() {
        var name = create("{storage: {size: 10Gi}}").getMetadata().getName();
        assertThat(rejection(() -> patch(name, "{spec: {storage: {size: 9Gi}}}"))).contains(
                "spec.storage.size: Invalid value: \"object\": storage.size cannot shrink: set it to at least 10Gi");
        assertThat(rejection(() -> patch(name, "{spec: {storage: {size: 10000Mi}}}")))
                .contains("storage.size cannot shrink");
        assertThat(map(spec(patch(name, "{spec: {storage: {size: 10240Mi}}}")), "storage"))
                .containsEntry("size", "10240Mi");
        assertThat(map(spec(patch(name, "{spec: {storage: {size: 1Ti}}}")), "storage")).containsEntry("size", "1Ti");
    }

    @Test
    void kubectlScaleSetsShardsThroughTheScaleSubresource() {
        var name = create("{shards: 3}").getMetadata().getName();
        apiServer.kubectl("scale", "-n", NS, "limecluster/" + name, "--replicas=5");
        assertThat(spec(get(name))).containsEntry("shards", 5);

        var scale = client.resources(LimeCluster.class).inNamespace(NS).withName(name).scale();
        assertThat(scale.getSpec().getReplicas()).isEqualTo(5);
        assertThat(rejection(() -> client.resources(LimeCluster.class).inNamespace(NS).withName(name).scale(300)))
                .contains("spec.shards in body should be less than or equal to 256");
        assertThat(rejection(() -> client.resources(LimeCluster.class).inNamespace(NS).withName(name).scale(0)))
                .contains("spec.shards in body should be greater than or equal to 1");
        assertThat(spec(get(name))).as("a rejected scale changes nothing").containsEntry("shards", 5);
    }

    @Test
    void statusIsASubresource() {
        var created = create("{}");
        created.setAdditionalProperty("status", Map.of("phase", "Running"));
        var updated = client.genericKubernetesResources(LIME).inNamespace(NS).resource(created).update();
        assertThat(updated.getAdditionalProperties()).doesNotContainKey("status");

        updated.setAdditionalProperty("status", Map.of("phase", "Running"));

        var withStatus = client.genericKubernetesResources(LIME).inNamespace(NS).resource(updated).updateStatus();
        assertThat(map(withStatus.getAdditionalProperties(), "status")).containsEntry("phase", "Running");
        var name = created.getMetadata().getName();
        var afterSpecPatch = patch(name, "{spec: {shards: 4}, status: {phase: Failed}}");
        assertThat(map(afterSpecPatch.getAdditionalProperties(), "status")).containsEntry("phase", "Running");
        assertThat(spec(afterSpecPatch)).containsEntry("shards", 4);
    }

    @Test
    void kubectlGetShowsTheColumnsInOrder() {
        var created = create("{}");
        var header = apiServer.kubectl("get", "-n", NS, "limeclusters").lines().findFirst().orElseThrow();
        assertThat(header.trim().split("\\s+")).containsExactly("NAME", "SHARDS", "REPLICAS", "READY", "PHASE",
                "RESHARDING", "RING", "AGE");

        // the resharding's progress as the operator writes it, and the column that shows it
        created.setAdditionalProperty("status", Map.of("phase", "Resharding", "ready", "3/4", "ringVersion", 12,
                "resharding", Map.of("from", 3, "to", 4, "step", "Moving", "rangesMoved", 120, "rangesTotal", 216,
                        "keys", 5000, "bytes", 400000, "summary", "3->4 120/216")));
        var withStatus = client.genericKubernetesResources(LIME).inNamespace(NS).resource(created).updateStatus();
        assertThat(map(map(withStatus.getAdditionalProperties(), "status"), "resharding"))
                .containsEntry("rangesMoved", 120).containsEntry("rangesTotal", 216).containsEntry("keys", 5000);
        var row = apiServer.kubectl("get", "-n", NS, "limecluster", created.getMetadata().getName(), "--no-headers");
        assertThat(row.trim().split("\\s+")).startsWith(created.getMetadata().getName(), "3", "3", "3/4", "Resharding",
                "3->4", "120/216", "12");
    }

    @Test
    void kubectlExplainDescribesTheSpec() {
        // the API server publishes a new CRD's OpenAPI a moment after it is established
        var explain = Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptions().until(() -> apiServer.kubectl("explain", "limecluster.spec"), s -> true);
        assertThat(explain).contains("shards", "Number of shards", "replicasPerShard", "storage", "vnodesPerShard");
        assertThat(apiServer.kubectl("explain", "limecluster.spec.replication.mode"))
                .contains("sync: a write is acknowledged", "ENUM", "async");
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private static GenericKubernetesResource create(String spec) {
        var name = "lime-" + names.incrementAndGet();
        var yaml = "apiVersion: limedb.io/v1alpha1\nkind: LimeCluster\nmetadata: {name: " + name + "}\nspec: " + spec;
        return client.genericKubernetesResources(LIME).inNamespace(NS)
                .resource(Serialization.unmarshal(yaml, GenericKubernetesResource.class)).create();
    }

    private static GenericKubernetesResource get(String name) {
        return client.genericKubernetesResources(LIME).inNamespace(NS).withName(name).get();
    }

    /** A JSON merge patch written as YAML flow: null removes a field. */
    private static GenericKubernetesResource patch(String name, String yaml) {
        String json;
        try {
            json = new ObjectMapper().writeValueAsString(new YAMLMapper().readTree(yaml));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(yaml, e);
        }
        return client.genericKubernetesResources(LIME).inNamespace(NS).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), json);
    }

    /** What the API server answered when it refused the request (422 Unprocessable Entity). */
    private static String rejection(ThrowingCallable request) {
        var e = catchThrowableOfType(KubernetesClientException.class, request);
        assertThat(e).as("the API server accepted it").isNotNull();
        assertThat(e.getCode()).as("%s caused by %s", e.getMessage(), e.getCause()).isEqualTo(422);
        return e.getStatus().getMessage();
    }

    private static Map<String, Object> spec(GenericKubernetesResource r) {
        return map(r.getAdditionalProperties(), "spec");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        return (Map<String, Object>) parent.get(key);
    }

    private static boolean established(CustomResourceDefinition crd) {
        // A CRD just created may have a status without conditions yet: not established.
        return crd != null && crd.getStatus() != null && crd.getStatus().getConditions() != null
                && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }
}
