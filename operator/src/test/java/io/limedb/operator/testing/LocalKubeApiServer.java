package io.limedb.operator.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.Utils;
import io.fabric8.kubeapitest.binary.OSInfo;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real kube-apiserver + etcd for tests (Fabric8 kube-api-test), run from the binaries that
 * {@code e2e/cluster.sh up} builds into $LIMEDB_E2E_CACHE (default /var/cache/limedb-e2e), at the versions in
 * e2e/versions.env. Never downloads anything. Without the binaries the calling test is skipped, or fails when
 * LIMEDB_REQUIRE_APISERVER=true (CI).
 */
public final class LocalKubeApiServer implements AutoCloseable {
    public static final String REQUIRE_ENV = "LIMEDB_REQUIRE_APISERVER";
    private static final Pattern ASSIGNMENT = Pattern.compile("^([A-Z0-9_]+)=(\\S+)");

    private final KubeAPIServer server;
    private final KubernetesClient client;
    private final Path kubeconfig;
    private final Path kubectl;

    private LocalKubeApiServer(KubeAPIServer server, Path kubeconfig, Path kubectl) {
        this.server = server;
        this.kubeconfig = kubeconfig;
        this.kubectl = kubectl;
        this.client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(server.getKubeConfigYaml())).build();
    }

    /** Starts etcd and kube-apiserver; skips or fails the test (see class comment) when the binaries are missing. */
    public static LocalKubeApiServer start() {
        var root = repoRoot();
        var versions = readVersions(root.resolve("e2e/versions.env"));
        var cache = Path.of(System.getenv().getOrDefault("LIMEDB_E2E_CACHE", "/var/cache/limedb-e2e"));
        var k8sVersion = versions.get("K8S_VERSION");
        var kubeBin = cache.resolve("k8s").resolve(k8sVersion).resolve("bin");
        var binaries = new LinkedHashMap<String, Path>();
        binaries.put("kube-apiserver", kubeBin.resolve("kube-apiserver"));
        binaries.put("etcd", cache.resolve("etcd").resolve(versions.get("ETCD_VERSION")).resolve("bin/etcd"));
        binaries.put("kubectl", kubeBin.resolve("kubectl"));
        var missing = binaries.values().stream().filter(p -> !Files.isExecutable(p)).map(Path::toString).toList();
        if (!missing.isEmpty()) {
            var message = "no Kubernetes API server binaries (missing " + String.join(", ", missing)
                    + "): run `e2e/cluster.sh up` (or `make cluster`), which builds them into " + cache;
            if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))) {
                Assertions.fail(message + " [" + REQUIRE_ENV + "=true]");
            }
            System.err.println("skipped: " + message); // surefire does not print why a class was aborted
            Assumptions.abort(message);
        }
        // kube-api-test looks for <dir>/k8s/<version><platform>/{kube-apiserver,etcd,kubectl} and keeps its
        // certificates in <dir>: a directory of links under target/, so the cache is only read.
        var version = k8sVersion.replaceFirst("^v", "");
        var testDir = root.resolve("operator/target/kube-api-test");
        var binDir = testDir.resolve("k8s").resolve(version + Utils.platformSuffix(new OSInfo()));
        try {
            Files.createDirectories(binDir);
            for (var b : binaries.entrySet()) {
                var link = binDir.resolve(b.getKey());
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, b.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        var config = KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(testDir.toString())
                .withApiServerVersion(version)
                .withOfflineMode(true)
                .withStartupTimeout(120_000)
                .build();
        var server = new KubeAPIServer(config);
        server.start();
        try {
            var kubeconfig = Files.writeString(testDir.resolve("kubeconfig"), server.getKubeConfigYaml());
            return new LocalKubeApiServer(server, kubeconfig, binaries.get("kubectl"));
        } catch (IOException | RuntimeException e) {
            server.stop();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    public KubernetesClient client() {
        return client;
    }

    /** Runs kubectl against this server and returns its standard output; fails on a non-zero exit. */
    public String kubectl(String... args) {
        var command = new ArrayList<String>();
        command.add(kubectl.toString());
        command.add("--kubeconfig=" + kubeconfig);
        command.addAll(List.of(args));
        try {
            var process = new ProcessBuilder(command).redirectErrorStream(true).start();
            var out = new String(process.getInputStream().readAllBytes());
            if (process.waitFor() != 0) {
                throw new AssertionError(String.join(" ", args) + " failed:\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        client.close();
        server.stop();
    }

    /** The repository root: surefire and failsafe run in the module directory and say so in {@code basedir}. */
    public static Path repoRoot() {
        return Path.of(System.getProperty("basedir", "")).toAbsolutePath().getParent();
    }

    private static Map<String, String> readVersions(Path file) {
        var versions = new LinkedHashMap<String, String>();
        try {
            for (var line : Files.readAllLines(file)) {
                var m = ASSIGNMENT.matcher(line);
                if (m.find()) {
                    versions.put(m.group(1), m.group(2));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return versions;
    }
}
