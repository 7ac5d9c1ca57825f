package io.limedb.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart in charts/limedb-operator, as a reviewer reads it: `helm lint`, then `helm template`
 * with the default values and with a list of watched namespaces, and assertions on the rendered
 * objects (RBAC exactly as agreed and nothing wildcard, the operator's security context, its
 * environment, images from values). Needs only helm (the one `e2e/cluster.sh up` installs, or
 * -Dlimedb.e2e.helm=PATH), no cluster.
 */
class HelmChartE2E {

    private static final String RELEASE = "limedb-operator";
    private static final String NAMESPACE = "limedb-system";
    private static final String CRD_NAME = "limeclusters.limedb.io";
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    /** What the operator may do in a namespace it watches: apiGroup/resource → verbs. Nothing else. */
    private static final Map<String, Set<String>> NAMESPACED_RIGHTS = Map.ofEntries(
            Map.entry("limedb.io/limeclusters", Set.of("get", "list", "watch", "update", "patch")),
            Map.entry("limedb.io/limeclusters/status", Set.of("get", "update", "patch")),
            Map.entry("limedb.io/limeclusters/finalizers", Set.of("update")),
            Map.entry("apps/statefulsets", crud()),
            Map.entry("apps/deployments", crud()),
            Map.entry("/services", crud()),
            Map.entry("/configmaps", crud()),
            Map.entry("/serviceaccounts", crud()),
            Map.entry("/pods", Set.of("get", "list", "watch")),
            Map.entry("/persistentvolumeclaims", Set.of("get", "list", "watch", "delete")),
            Map.entry("/events", Set.of("create", "patch")),
            Map.entry("events.k8s.io/events", Set.of("create", "patch")),
            Map.entry("policy/poddisruptionbudgets", crud()),
            Map.entry("rbac.authorization.k8s.io/roles", crud()),
            Map.entry("rbac.authorization.k8s.io/rolebindings", crud()));
    private static final Map<String, Set<String>> LEADER_ELECTION_RIGHTS = Map.of(
            "coordination.k8s.io/leases", Set.of("get", "list", "watch", "create", "update", "patch"));
    private static final Map<String, Set<String>> CRD_RIGHTS = Map.of(
            "apiextensions.k8s.io/customresourcedefinitions", Set.of("get", "list"));

    private static Path repo;
    private static Path chart;
    private static String helm;
    private static String appVersion;

    @BeforeAll
    static void findHelmAndChart() throws Exception {
        repo = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(repo.resolve("charts/limedb-operator"))) {
            repo = Objects.requireNonNull(repo.getParent(), "no charts/limedb-operator above the working directory");
        }
        chart = repo.resolve("charts/limedb-operator");
        helm = System.getProperty("limedb.e2e.helm", "");
        if (helm.isBlank()) {
            // The helm that e2e/cluster.sh installs, on the PATH its `env` command exports.
            helm = run(List.of("bash", "-c", "eval \"$(e2e/cluster.sh env)\" && command -v helm")).strip();
        }
        var chartYaml = YAML.unmarshal(Files.readString(chart.resolve("Chart.yaml")), Map.class);
        appVersion = String.valueOf(chartYaml.get("appVersion"));
        assertThat(appVersion).as("Chart.yaml appVersion").isNotBlank().isNotEqualTo("null");
    }

    @Test
    void lintPasses() throws Exception {
        var out = run(List.of(helm, "lint", "--strict", chart.toString()));
        assertThat(out).contains("1 chart(s) linted, 0 chart(s) failed");
        run(List.of(helm, "lint", "--strict", chart.toString(), "--set", "watchNamespaces={a,b}", "--set", "replicas=2"));
    }

    @Test
    void crdShipsInCrdsDirectoryNotInTemplates() throws Exception {
        var file = chart.resolve("crds/limeclusters.limedb.io-v1.yml");
        assertThat(file).as("the generated CRD in the chart's crds/").exists();
        var crd = YAML.unmarshal(Files.readString(file), CustomResourceDefinition.class);
        assertThat(crd.getMetadata().getName()).isEqualTo(CRD_NAME);
        assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
        assertThat(crd.getSpec().getNames().getShortNames()).contains("lime");
        assertThat(crd.getSpec().getVersions()).anySatisfy(v -> {
            assertThat(v.getServed()).isTrue();
            assertThat(v.getSubresources().getStatus()).isNotNull();
        });

        // helm installs crds/ before the templates (and never templates it); the templates hold no CRD.
        assertThat(render(true).stream().filter(o -> o instanceof CustomResourceDefinition)
                .map(o -> o.getMetadata().getName())).containsExactly(CRD_NAME);
        assertThat(render(false)).noneMatch(o -> o instanceof CustomResourceDefinition);
    }

    @Test
    void defaultValuesWatchAllNamespacesThroughOneClusterRole() throws Exception {
        var objects = render(false);
        var deployment = one(objects, Deployment.class, RELEASE);
        assertThat(deployment.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
        assertThat(env(deployment)).containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS_LIMECLUSTER_NAMESPACES",
                "JOSDK_ALL_NAMESPACES");

        var role = one(objects, ClusterRole.class, RELEASE);
        assertThat(rights(role.getRules())).isEqualTo(NAMESPACED_RIGHTS);
        var binding = one(objects, ClusterRoleBinding.class, RELEASE);
        assertThat(binding.getRoleRef().getKind()).isEqualTo("ClusterRole");
        assertThat(binding.getRoleRef().getName()).isEqualTo(RELEASE);
        assertBindsOperator(binding.getSubjects());

        // Namespaced Roles: only leader election, in the release namespace.
        assertThat(all(objects, Role.class)).singleElement().satisfies(r -> {
            assertThat(r.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
            assertThat(rights(r.getRules())).isEqualTo(LEADER_ELECTION_RIGHTS);
        });
        assertCrdReaderOnly(objects);
        assertThat(one(objects, ServiceAccount.class, RELEASE).getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    }

    @Test
    void watchNamespacesGiveOneRolePerNamespaceAndNothingClusterWideButTheCrd() throws Exception {
        var objects = render(false, "--set", "watchNamespaces={team-a,team-b}");
        assertThat(env(one(objects, Deployment.class, RELEASE)))
                .containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS_LIMECLUSTER_NAMESPACES", "team-a,team-b");

        assertThat(all(objects, ClusterRole.class)).extracting(r -> r.getMetadata().getName())
                .containsExactly(RELEASE + "-crd-reader");
        assertThat(all(objects, ClusterRoleBinding.class)).extracting(b -> b.getRoleRef().getName())
                .containsExactly(RELEASE + "-crd-reader");
        assertCrdReaderOnly(objects);

        for (var ns : List.of("team-a", "team-b")) {
            var role = all(objects, Role.class).stream()
                    .filter(r -> ns.equals(r.getMetadata().getNamespace())).toList();
            assertThat(role).as("Roles in " + ns).singleElement()
                    .satisfies(r -> assertThat(rights(r.getRules())).isEqualTo(NAMESPACED_RIGHTS));
            var binding = all(objects, RoleBinding.class).stream()
                    .filter(b -> ns.equals(b.getMetadata().getNamespace())).toList();
            assertThat(binding).as("RoleBindings in " + ns).singleElement().satisfies(b -> {
                assertThat(b.getRoleRef().getKind()).isEqualTo("Role");
                assertThat(b.getRoleRef().getName()).isEqualTo(role.getFirst().getMetadata().getName());
                assertBindsOperator(b.getSubjects());
            });
        }
        // The lease stays in the operator's own namespace, which it does not have to watch.
        assertThat(all(objects, Role.class)).filteredOn(r -> NAMESPACE.equals(r.getMetadata().getNamespace()))
                .singleElement().satisfies(r -> assertThat(rights(r.getRules())).isEqualTo(LEADER_ELECTION_RIGHTS));
    }

    @Test
    void noWildcardAndNoSecretsInAnyRule() throws Exception {
        var renderings = List.of(render(false), render(false, "--set", "watchNamespaces={a,b}"));
        for (var objects : renderings) {
            var rules = Stream.concat(all(objects, ClusterRole.class).stream().flatMap(r -> r.getRules().stream()),
                    all(objects, Role.class).stream().flatMap(r -> r.getRules().stream())).toList();
            assertThat(rules).isNotEmpty().allSatisfy(rule -> {
                assertThat(rule.getVerbs()).isNotEmpty().doesNotContain("*");
                assertThat(rule.getResources()).isNotEmpty().doesNotContain("*")
                        .noneMatch(r -> r.endsWith("/*")).doesNotContain("secrets", "pods/exec", "nodes");
                assertThat(rule.getApiGroups()).isNotEmpty().doesNotContain("*");
                assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
                assertThat(rule.getVerbs()).doesNotContain("escalate", "bind", "impersonate", "deletecollection");
            });
        }
    }

    @Test
    void operatorRunsNonRootOnAReadOnlyRootFilesystem() throws Exception {
        var pod = one(render(false), Deployment.class, RELEASE).getSpec().getTemplate().getSpec();
        var container = operator(pod.getContainers());
        var podSc = pod.getSecurityContext();
        var sc = container.getSecurityContext();
        assertThat(podSc.getRunAsNonRoot()).isTrue();
        assertThat(podSc.getRunAsUser()).isEqualTo(10001L);
        assertThat(podSc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(sc.getRunAsNonRoot()).isTrue();
        assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        // The only writable place: an emptyDir on /tmp.
        assertThat(container.getVolumeMounts()).singleElement().satisfies(m -> {
            assertThat(m.getMountPath()).isEqualTo("/tmp");
            assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals(m.getName()))
                    .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
        });
        assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getServiceAccountName()).isEqualTo(RELEASE);
    }

    @Test
    void probesAndMetricsServiceOnPort8080() throws Exception {
        var objects = render(false);
        var deployment = one(objects, Deployment.class, RELEASE);
        var container = operator(deployment.getSpec().getTemplate().getSpec().getContainers());
        assertThat(container.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("http");
            assertThat(p.getContainerPort()).isEqualTo(8080);
        });
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
        assertThat(container.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
        assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");

        var service = one(objects, Service.class, RELEASE);
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(8080);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
        });
        assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(service.getSpec().getSelector());
        assertThat(deployment.getSpec().getSelector().getMatchLabels()).isEqualTo(service.getSpec().getSelector());
    }

    @Test
    void leaderElectionEnvironmentAndItsAbsence() throws Exception {
        var on = one(render(false, "--set", "replicas=2"), Deployment.class, RELEASE);
        assertThat(on.getSpec().getReplicas()).isEqualTo(2);
        assertThat(env(on)).containsEntry("LIMEDB_OPERATOR_LEADER_ELECTION", "true");
        var container = operator(on.getSpec().getTemplate().getSpec().getContainers());
        assertThat(container.getEnv()).filteredOn(e -> e.getName().equals("POD_NAMESPACE")).singleElement()
                .satisfies(e -> assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace"));
        assertThat(container.getEnv()).filteredOn(e -> e.getName().equals("POD_NAME")).singleElement()
                .satisfies(e -> assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name"));

        var offObjects = render(false, "--set", "leaderElection.enabled=false");
        var off = one(offObjects, Deployment.class, RELEASE);
        assertThat(env(off)).containsEntry("LIMEDB_OPERATOR_LEADER_ELECTION", "false");
        assertThat(off.getSpec().getStrategy().getType()).as("never two operators at once").isEqualTo("Recreate");
        assertThat(all(offObjects, Role.class)).as("no lease rights without leader election").isEmpty();

        var refused = helm(List.of("--set", "replicas=2", "--set", "leaderElection.enabled=false"), false);
        assertThat(refused.exitCode).as("two replicas without leader election").isNotZero();
        assertThat(refused.output).contains("leaderElection.enabled=true");
    }

    @Test
    void imagesAndLogLevelComeFromValues() throws Exception {
        var defaults = one(render(false), Deployment.class, RELEASE);
        var container = operator(defaults.getSpec().getTemplate().getSpec().getContainers());
        assertThat(container.getImage()).isEqualTo("limedb/operator:" + appVersion);
        assertThat(container.getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(env(defaults)).containsEntry("LIMEDB_OPERATOR_NODE_IMAGE", "limedb/node:" + appVersion)
                .containsEntry("QUARKUS_LOG_CATEGORY__IO_LIMEDB__LEVEL", "INFO");

        var custom = one(render(false, "--set", "image.repository=registry.example/lime/operator",
                "--set", "image.tag=1.2.3", "--set", "image.pullPolicy=Never",
                "--set", "nodeImage=registry.example/lime/node:9.9", "--set", "logLevel=DEBUG"), Deployment.class, RELEASE);
        container = operator(custom.getSpec().getTemplate().getSpec().getContainers());
        assertThat(container.getImage()).isEqualTo("registry.example/lime/operator:1.2.3");
        assertThat(container.getImagePullPolicy()).isEqualTo("Never");
        assertThat(env(custom)).containsEntry("LIMEDB_OPERATOR_NODE_IMAGE", "registry.example/lime/node:9.9")
                .containsEntry("QUARKUS_LOG_CATEGORY__IO_LIMEDB__LEVEL", "DEBUG");
    }

    @Test
    void exampleIsAThreeByThreeClusterTheCrdAccepts() throws Exception {
        var example = YAML.unmarshal(Files.readString(chart.resolve("examples/limecluster.yaml")),
                GenericKubernetesResource.class);
        assertThat(example.getApiVersion()).isEqualTo("limedb.io/v1alpha1");
        assertThat(example.getKind()).isEqualTo("LimeCluster");
        assertThat(example.getMetadata().getName()).isEqualTo("example");
        @SuppressWarnings("unchecked")
        var spec = (Map<String, Object>) example.getAdditionalProperties().get("spec");
        assertThat(spec).containsEntry("shards", 3).containsEntry("replicasPerShard", 3);

        // Every field the example sets is one the CRD declares (a typo would be pruned silently).
        var crdFile = chart.resolve("crds/limeclusters.limedb.io-v1.yml");
        assertThat(crdFile).exists();
        var crd = YAML.unmarshal(Files.readString(crdFile), CustomResourceDefinition.class);
        var version = crd.getSpec().getVersions().stream()
                .filter(v -> example.getApiVersion().endsWith("/" + v.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("the CRD has no version " + example.getApiVersion()));
        assertDeclared("spec", spec, version.getSchema().getOpenAPIV3Schema().getProperties().get("spec"));
    }

    // ---- helpers

    private static void assertDeclared(String path, Object value, JSONSchemaProps schema) {
        assertThat(schema).as(path + " is not in the CRD's schema").isNotNull();
        if (value instanceof Map<?, ?> map && schema.getProperties() != null && !schema.getProperties().isEmpty()) {
            map.forEach((k, v) -> assertDeclared(path + "." + k, v, schema.getProperties().get(String.valueOf(k))));
        }
    }

    private static void assertCrdReaderOnly(List<HasMetadata> objects) {
        var reader = one(objects, ClusterRole.class, RELEASE + "-crd-reader");
        assertThat(rights(reader.getRules())).isEqualTo(CRD_RIGHTS);
        assertThat(reader.getRules()).allSatisfy(r -> assertThat(r.getResourceNames()).containsExactly(CRD_NAME));
        assertBindsOperator(one(objects, ClusterRoleBinding.class, RELEASE + "-crd-reader").getSubjects());
    }

    private static void assertBindsOperator(List<Subject> subjects) {
        assertThat(subjects).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(RELEASE);
            assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
        });
    }

    /** apiGroup/resource → verbs over all rules; a resource in two rules would be merged, so it must not be. */
    private static Map<String, Set<String>> rights(List<PolicyRule> rules) {
        var rights = new TreeMap<String, Set<String>>();
        for (var rule : rules) {
            for (var group : rule.getApiGroups()) {
                for (var resource : rule.getResources()) {
                    var previous = rights.put(group + "/" + resource, new TreeSet<>(rule.getVerbs()));
                    if (previous != null) {
                        fail("%s/%s appears in two rules", group, resource);
                    }
                }
            }
        }
        return rights;
    }

    private static Container operator(List<Container> containers) {
        assertThat(containers).hasSize(1);
        return containers.getFirst();
    }

    private static Map<String, String> env(Deployment deployment) {
        var env = new TreeMap<String, String>();
        for (EnvVar e : operator(deployment.getSpec().getTemplate().getSpec().getContainers()).getEnv()) {
            if (env.put(e.getName(), e.getValue() == null ? "<from>" : e.getValue()) != null) {
                fail("env %s is set twice", e.getName());
            }
        }
        return env;
    }

    private static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        var found = all(objects, type).stream().filter(o -> name.equals(o.getMetadata().getName())).toList();
        assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
        return found.getFirst();
    }

    private static Set<String> crud() {
        return Set.of("get", "list", "watch", "create", "update", "patch", "delete");
    }

    /** `helm template` of the chart as release limedb-operator in limedb-system, parsed document by document. */
    private static List<HasMetadata> render(boolean includeCrds, String... args) throws Exception {
        var result = helm(Arrays.asList(args), includeCrds);
        if (result.exitCode != 0) {
            fail("helm template %s failed (%d):%n%s", String.join(" ", args), result.exitCode, result.output);
        }
        var objects = new ArrayList<HasMetadata>();
        for (var doc : result.output.split("(?m)^---\\s*$")) {
            var stripped = doc.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
            if (!stripped.isEmpty()) {
                objects.add(YAML.unmarshal(doc, HasMetadata.class));
            }
        }
        return objects;
    }

    private record Result(int exitCode, String output) {}

    private static Result helm(List<String> args, boolean includeCrds) throws Exception {
        var command = new ArrayList<>(List.of(helm, "template", RELEASE, chart.toString(), "--namespace", NAMESPACE));
        if (includeCrds) {
            command.add("--include-crds");
        }
        command.addAll(args);
        return exec(command);
    }

    private static String run(List<String> command) throws Exception {
        var result = exec(command);
        if (result.exitCode != 0) {
            fail("%s failed (%d):%n%s", String.join(" ", command), result.exitCode, result.output);
        }
        return result.output;
    }

    /** Runs a command in the repository root; stdout, with stderr after it only when it fails. */
    private static Result exec(List<String> command) throws IOException, InterruptedException {
        var err = Files.createTempFile("helm", ".err");
        try {
            var process = new ProcessBuilder(command).directory(repo.toFile())
                    .redirectError(err.toFile()).start();
            var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                fail("%s did not finish in 2 minutes", String.join(" ", command));
            }
            var code = process.exitValue();
            return new Result(code, code == 0 ? out : out + Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
