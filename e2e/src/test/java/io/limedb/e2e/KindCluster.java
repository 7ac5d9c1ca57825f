package io.limedb.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The kind cluster of `e2e/cluster.sh up`, with one throw-away namespace per test class. */
final class KindCluster implements AutoCloseable {

    private final KubernetesClient client;
    private final String namespace;

    private KindCluster(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** Connects with the kubeconfig named by -Dlimedb.e2e.kubeconfig and creates a fresh namespace. */
    static KindCluster connect(String namespacePrefix) {
        var kubeconfig = Path.of(System.getProperty("limedb.e2e.kubeconfig", "target/kubeconfig"));
        if (!Files.isReadable(kubeconfig)) {
            throw new IllegalStateException("no kubeconfig at " + kubeconfig + ": run `make cluster` first");
        }
        var client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(read(kubeconfig))).build();
        var namespace = namespacePrefix + "-" + Long.toString(Instant.now().getEpochSecond(), 36);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
                .endMetadata().build()).create();
        return new KindCluster(client, namespace);
    }

    KubernetesClient client() {
        return client;
    }

    String namespace() {
        return namespace;
    }

    /** Creates every object of a manifest from the classpath after filling in ${NAME} placeholders. */
    List<HasMetadata> apply(String resource, Map<String, String> values) {
        String yaml;
        try (var in = KindCluster.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no manifest " + resource + " on the classpath");
            }
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (var e : Map.copyOf(values).entrySet()) {
            yaml = yaml.replace("${" + e.getKey() + "}", e.getValue());
        }
        var items = client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        return items.stream().map(item -> client.resource(item).inNamespace(namespace).create()).toList();
    }

    /** Writes pod states, recent events and container logs under target/e2e-diagnostics/. */
    void dumpDiagnostics(String testName) {
        var dir = Path.of("target", "e2e-diagnostics", testName);
        try {
            Files.createDirectories(dir);
            var pods = new StringBuilder();
            for (Pod pod : client.pods().inNamespace(namespace).list().getItems()) {
                pods.append(pod.getMetadata().getName()).append(' ').append(pod.getStatus()).append('\n');
                try {
                    Files.writeString(dir.resolve(pod.getMetadata().getName() + ".log"),
                            client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).getLog());
                } catch (RuntimeException e) {
                    // A pod that never started has no log; its status above says why.
                }
            }
            Files.writeString(dir.resolve("pods.txt"), pods);
            var events = new StringBuilder();
            client.v1().events().inNamespace(namespace).list().getItems().forEach(ev -> events
                    .append(ev.getLastTimestamp()).append(' ').append(ev.getInvolvedObject().getName()).append(' ')
                    .append(ev.getReason()).append(": ").append(ev.getMessage()).append('\n'));
            Files.writeString(dir.resolve("events.txt"), events);
        } catch (IOException | RuntimeException e) {
            System.err.println("e2e: could not write diagnostics: " + e);
        }
    }

    /** Deletes the namespace unless -Dlimedb.e2e.keep=true asks to leave it for a look. */
    @Override
    public void close() {
        try {
            if (!Boolean.getBoolean("limedb.e2e.keep")) {
                client.namespaces().withName(namespace).withTimeout(2, TimeUnit.MINUTES).delete();
            }
        } finally {
            client.close();
        }
    }

    private static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
