package io.limedb.node.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Topology from the operator's ConfigMap (data key {@code topology.json}), read through the Kubernetes
 * API with the JDK's HTTP client (the node carries no Kubernetes library). A watch sees a change within
 * about a second; a GET comes first and again whenever the watch ends or fails (after 200 ms, doubling
 * to 5 s while it keeps failing), and every 10 s as a safety net. A ConfigMap volume would instead
 * follow a change only at the kubelet's next sync, up to a minute later.
 */
public final class ConfigMapTopologySource extends PolledTopologySource {
    static final String DATA_KEY = "topology.json";
    private static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * How often to GET anyway, the pauses between failed watches, how long one watch may stay open, and
     * how long a request may wait for the API's answer (for a watch: for its headers, not its events).
     */
    record Timing(long resyncMs, long minBackoffMs, long maxBackoffMs, int watchSeconds, long requestTimeoutMs) {
        static final Timing DEFAULT = new Timing(10_000, 200, 5_000, 300, 5_000);
    }

    private final URI api;
    private final String namespace;
    private final String name;
    private final HttpClient http;
    private final TokenFile token;
    private final Timing timing;
    private final String listPath;
    private final Thread watcher;
    private volatile boolean closed;
    private volatile InputStream watchBody;
    private volatile long watchOpenedNanos;

    /**
     * The ConfigMap as a pod reads it: the API server from KUBERNETES_SERVICE_HOST/PORT, the service
     * account's token and CA; an empty namespace means the pod's own.
     */
    public static ConfigMapTopologySource inCluster(String namespace, String name, int defaultVnodes) {
        String host = System.getenv("KUBERNETES_SERVICE_HOST");
        String port = System.getenv("KUBERNETES_SERVICE_PORT");
        if (host == null || port == null) {
            throw new IllegalArgumentException("topology.configmap=" + name + " reads the ConfigMap through the Kubernetes "
                    + "API, but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set (not in a pod?); "
                    + "use topology.file outside Kubernetes");
        }
        if (namespace.isEmpty()) {
            try {
                namespace = Files.readString(SERVICE_ACCOUNT.resolve("namespace")).trim();
            } catch (IOException e) {
                throw new IllegalArgumentException("topology.namespace is not set and the pod's namespace cannot be read from "
                        + SERVICE_ACCOUNT.resolve("namespace") + ": " + e.getMessage());
            }
        }
        URI api = URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
        return new ConfigMapTopologySource(api, namespace, name, client(SERVICE_ACCOUNT.resolve("ca.crt")),
                SERVICE_ACCOUNT.resolve("token"), defaultVnodes, Timing.DEFAULT);
    }

    /** For tests: any base URL (http too), token file (null: none) and timing; the source owns the client. */
    ConfigMapTopologySource(URI api, String namespace, String name, HttpClient http, Path tokenFile, int defaultVnodes,
            Timing timing) {
        super(defaultVnodes);
        this.api = api;
        this.namespace = namespace;
        this.name = name;
        this.http = http;
        this.token = tokenFile == null ? null : new TokenFile(tokenFile);
        this.timing = timing;
        this.listPath = "/api/v1/namespaces/" + namespace + "/configmaps?fieldSelector="
                + URLEncoder.encode("metadata.name=" + name, StandardCharsets.UTF_8);
        watcher = new Thread(this::listAndWatch, "topology-watch");
        watcher.setDaemon(true);
        watcher.start();
        pollEvery(timing.resyncMs());
    }

    /** An HTTP/1.1 client that trusts only the cluster's CA (the PEM file, one or more certificates). */
    static HttpClient client(Path caFile) {
        try (var in = Files.newInputStream(caFile)) {
            var trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int i = 0;
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("ca-" + i++, cert);
            }
            var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
            var tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls)
                    .connectTimeout(CONNECT_TIMEOUT).build();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot load the Kubernetes API's CA from " + caFile + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return "configmap " + namespace + "/" + name + " via API";
    }

    /** The safety-net GET (and a refresh); also ends a watch that stayed open past its own timeout. */
    @Override
    protected void poll() {
        list();
        var body = watchBody;
        if (body != null && System.nanoTime() - watchOpenedNanos > TimeUnit.SECONDS.toNanos(timing.watchSeconds() + 30)) {
            log.warn("watch of configmap {}/{} open past its {} s timeout; starting it again", namespace, name,
                    timing.watchSeconds());
            closeQuietly(body);
        }
    }

    /** The watcher thread: GET, then watch from what it returned, again and again until closed. */
    private void listAndWatch() {
        long backoff = timing.minBackoffMs();
        while (!closed) {
            boolean opened = false;
            try {
                String version = list();
                opened = version != null && watch(version);
            } catch (IOException | RuntimeException e) {
                if (!closed) log.warn("watch of configmap {}/{} ended: {}; reading it again", namespace, name, e.toString());
            } catch (InterruptedException e) {
                return;
            }
            if (opened) backoff = timing.minBackoffMs();
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            if (!opened) backoff = Math.min(timing.maxBackoffMs(), backoff * 2);
        }
    }

    /** GETs the ConfigMap and applies it; returns the resourceVersion to watch from, null when the API failed. */
    private String list() {
        try {
            var r = http.send(request(listPath), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                problem(r.statusCode(), r.body());
                return null;
            }
            JsonNode list = JSON.readTree(r.body());
            JsonNode items = list.path("items");
            if (items.isEmpty()) {
                note("configmap " + namespace + "/" + name + " does not exist yet (normal until the operator writes it); "
                        + "the coordinator is not ready until it has a topology");
            } else {
                apply(items.get(0));
            }
            return list.path("metadata").path("resourceVersion").asText(null);
        } catch (IOException | RuntimeException e) {
            report("cannot read configmap " + namespace + "/" + name + " from the Kubernetes API at " + api + ": " + e);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Follows the ConfigMap from resourceVersion until the watch ends; false when it was not opened. */
    private boolean watch(String resourceVersion) throws IOException, InterruptedException {
        String path = listPath + "&watch=true&timeoutSeconds=" + timing.watchSeconds()
                + "&resourceVersion=" + URLEncoder.encode(resourceVersion, StandardCharsets.UTF_8);
        var r = http.send(request(path), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = r.body()) {
            if (r.statusCode() != 200) {
                problem(r.statusCode(), body.readNBytes(4096));
                return false;
            }
            watchOpenedNanos = System.nanoTime();
            watchBody = body;
            var lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            for (String line; !closed && (line = lines.readLine()) != null; ) {
                if (!line.isBlank() && !onEvent(JSON.readTree(line))) break;
            }
            return true;
        } finally {
            watchBody = null;
        }
    }

    /** One watch event; false when the watch must start again from a GET. */
    private boolean onEvent(JsonNode event) {
        JsonNode object = event.path("object");
        switch (event.path("type").asText()) {
            case "ADDED", "MODIFIED" -> apply(object);
            case "DELETED" -> report("configmap " + namespace + "/" + name + " was deleted; keeping the topology held");
            case "ERROR" -> {
                // 410 Gone: the version watched from is too old; the GET that follows catches up.
                if (object.path("code").asInt() != 410) {
                    report("watch of configmap " + namespace + "/" + name + " failed: " + object.path("message").asText());
                }
                return false;
            }
            default -> { } // BOOKMARK (not asked for) or a type this client does not know
        }
        return true;
    }

    private void apply(JsonNode configMap) {
        JsonNode data = configMap.path("data").get(DATA_KEY);
        if (data == null || !data.isTextual()) {
            report("configmap " + namespace + "/" + name + " has no data key " + DATA_KEY);
            return;
        }
        accept(data.asText().getBytes(StandardCharsets.UTF_8));
    }

    private void problem(int status, byte[] body) {
        String why = status + " " + statusMessage(body);
        switch (status) {
            case 401 -> {
                if (token != null) token.invalidate();
                report("the Kubernetes API refused the service account token (" + why + "); reading the token again");
            }
            case 403 -> report("RBAC: the pod's service account is missing get, list and watch on configmaps \"" + name
                    + "\" in namespace " + namespace + " (" + why + ")");
            case 404 -> note("configmap " + namespace + "/" + name + " does not exist yet (" + why + ")");
            default -> report("the Kubernetes API answered " + why + " for configmap " + namespace + "/" + name);
        }
    }

    private static String statusMessage(byte[] body) {
        try {
            String message = JSON.readTree(body).path("message").asText("");
            if (!message.isEmpty()) return message;
        } catch (IOException | RuntimeException e) {
            // not a Status object: show the text
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private HttpRequest request(String pathAndQuery) {
        var b = HttpRequest.newBuilder(api.resolve(pathAndQuery)).timeout(Duration.ofMillis(timing.requestTimeoutMs()))
                .header("Accept", "application/json");
        if (token != null) b.header("Authorization", "Bearer " + token.get());
        return b.build();
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // closing only to end the watch
        }
    }

    @Override
    public void close() {
        closed = true;
        var body = watchBody;
        if (body != null) closeQuietly(body);
        watcher.interrupt();
        http.shutdownNow();
        super.close();
    }

    /** The service account token, read again every minute (bound tokens rotate) and after a 401. */
    private static final class TokenFile {
        private final Path file;
        private String token;
        private long readNanos;

        TokenFile(Path file) {
            this.file = file;
        }

        synchronized String get() {
            if (token == null || System.nanoTime() - readNanos > TimeUnit.MINUTES.toNanos(1)) {
                try {
                    token = Files.readString(file).trim();
                    readNanos = System.nanoTime();
                } catch (IOException e) {
                    if (token == null) throw new UncheckedIOException("cannot read the service account token " + file, e);
                }
            }
            return token;
        }

        /** Read again at the next request; the old token stays if the file cannot be read. */
        synchronized void invalidate() {
            readNanos = System.nanoTime() - TimeUnit.MINUTES.toNanos(2);
        }
    }
}
