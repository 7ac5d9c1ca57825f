package io.limedb.node.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ConfigMap source against a fake Kubernetes API server in this JVM that speaks the API's JSON:
 * a list with a fieldSelector, a watch that streams JSON lines from a resourceVersion (replaying what
 * came after it, as the API server does), Status errors, and bearer tokens; once over HTTPS with a
 * self-signed certificate as the cluster's CA.
 */
class ConfigMapTopologySourceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * No periodic GET within a test: what arrives comes from the watch, or from the GET after it ended.
     * Requests time out after 1 s, which must not end a quiet watch.
     */
    private static final ConfigMapTopologySource.Timing TIMING =
            new ConfigMapTopologySource.Timing(60_000, 200, 5_000, 300, 1_000);

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(closeAfter);
        for (var c : closeAfter) {
            c.close();
            if (c instanceof ConfigMapTopologySource) { // its watch ends though the server keeps it open
                await().until(() -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().equals("topology-watch") && t.isAlive()));
            }
        }
    }

    @Test
    void readsAtStartFollowsTheWatchAndIgnoresInvalidOrOlderContent() throws Exception {
        var api = api(null);
        api.set(topology(1));
        var src = source(api);
        var seen = new CopyOnWriteArrayList<Long>();
        src.subscribe(t -> seen.add(t.version()));
        await().until(() -> seen.contains(1L));
        assertThat(src.describe()).isEqualTo("configmap ns/topo via API");
        await().until(() -> api.watchesOpen() == 1);

        api.set(topology(2));
        await().atMost(Duration.ofSeconds(1)).until(() -> seen.contains(2L));

        api.set("{ broken");
        await().until(() -> src.lastError() != null && src.lastError().contains("invalid"));
        api.set(topology(1));
        await().until(() -> src.lastError() != null && src.lastError().contains("older than current 2"));
        assertThat(src.current().orElseThrow().version()).isEqualTo(2);

        Thread.sleep(1500); // quiet for longer than the request timeout: the same watch goes on
        assertThat(api.watchRequests()).isEqualTo(1);
        api.set(topology(3));
        await().atMost(Duration.ofSeconds(1)).until(() -> seen.contains(3L));
        assertThat(api.watchRequests()).isEqualTo(1);
        assertThat(src.lastError()).isNull();
        assertThat(seen).containsExactly(1L, 2L, 3L);
        assertThat(api.requests).allSatisfy(r -> assertThat(r).contains("fieldSelector=metadata.name%3Dtopo"));
        assertThat(api.requests).anySatisfy(r -> assertThat(r).contains("watch=true").contains("resourceVersion="));
    }

    @Test
    void aChangeReachesTheListenerWithinASecondOfTheServerSendingIt() throws Exception {
        var api = api(null);
        api.set(topology(1));
        var src = source(api);
        var received = new ConcurrentHashMap<Long, Long>();
        src.subscribe(t -> received.put(t.version(), System.nanoTime()));
        await().until(() -> api.watchesOpen() == 1 && received.containsKey(1L));
        var micros = new ArrayList<Long>();
        for (long v = 2; v <= 41; v++) {
            long sent = api.set(topology(v));
            long version = v;
            await().atMost(Duration.ofSeconds(1)).until(() -> received.containsKey(version));
            micros.add(TimeUnit.NANOSECONDS.toMicros(received.get(v) - sent));
            Thread.sleep(10);
        }
        Collections.sort(micros);
        System.out.printf("TOPOLOGY-WATCH-LATENCY server event -> listener over %d changes: min %d us, median %d us, "
                + "p90 %d us, max %d us%n", micros.size(), micros.get(0), micros.get(micros.size() / 2),
                micros.get(micros.size() * 9 / 10), micros.get(micros.size() - 1));
        assertThat(micros.get(micros.size() - 1)).isLessThan(1_000_000);
    }

    @Test
    void aBrokenOrExpiredWatchIsFollowedByAGetAndANewWatch() throws Exception {
        var api = api(null);
        api.set(topology(1));
        var src = source(api);
        await().until(() -> api.watchesOpen() == 1 && src.current().isPresent());

        api.breakWatches(); // the stream ends; the change below comes while nobody watches
        api.set(topology(2));
        await().atMost(Duration.ofMillis(1500)).until(() -> src.current().orElseThrow().version() == 2);
        await().until(() -> api.watchesOpen() == 1);

        int watches = api.watchRequests();
        api.expireWatches(); // ERROR 410 Gone: the version watched from is too old
        await().until(() -> api.watchRequests() > watches && api.watchesOpen() == 1);
        api.set(topology(3));
        await().atMost(Duration.ofSeconds(1)).until(() -> src.current().orElseThrow().version() == 3);
        assertThat(src.lastError()).isNull();
    }

    @Test
    void aMissingConfigMapOrMissingRbacIsSaidClearlyAndACreatedOneIsSeen() throws Exception {
        var api = api(null);
        api.failWith = 403;
        var src = source(api);
        await().until(() -> src.lastError() != null);
        assertThat(src.lastError()).contains("RBAC").contains("get, list and watch on configmaps \"topo\" in namespace ns")
                .contains("403");

        api.failWith = 0; // RBAC fixed; the operator has not written the ConfigMap yet
        await().until(() -> src.lastError() != null && src.lastError().contains("does not exist yet"));
        assertThat(src.current()).isEmpty();
        await().until(() -> api.watchesOpen() == 1);
        api.set(topology(1)); // ADDED
        await().atMost(Duration.ofSeconds(1)).until(() -> src.current().isPresent());
        assertThat(src.lastError()).isNull();
    }

    @Test
    void refreshReadsWhatTheWatchHasNotDelivered() throws Exception {
        var api = api(null);
        api.set(topology(1));
        var src = source(api);
        await().until(() -> api.watchesOpen() == 1 && src.current().isPresent());
        api.silent = true;
        api.set(topology(2));
        Thread.sleep(300);
        assertThat(src.current().orElseThrow().version()).as("the watch said nothing").isEqualTo(1);
        src.refresh().get(5, TimeUnit.SECONDS);
        assertThat(src.current().orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void overTlsTrustingTheClusterCaWithATokenThatRotates() throws Exception {
        Path keystore = dir.resolve("api.p12");
        Path ca = dir.resolve("ca.crt");
        keytool("-genkeypair", "-alias", "api", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=kube-apiserver",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "api", "-keystore", keystore.toString(), "-storepass", "changeit",
                "-file", ca.toString());
        Path token = dir.resolve("token");
        Files.writeString(token, "token-1\n");
        var api = api(keystore);
        api.token = "token-1";
        api.set(topology(1));
        var src = new ConfigMapTopologySource(api.uri(), "ns", "topo", ConfigMapTopologySource.client(ca), token, 16,
                ConfigMapTopologySource.Timing.DEFAULT);
        closeAfter.add(src);
        await().until(() -> src.current().isPresent());

        Files.writeString(token, "token-2\n"); // the kubelet rotated it; the API server now wants the new one
        api.token = "token-2";
        api.breakWatches();
        await().until(() -> src.lastError() != null && src.lastError().contains("401"));
        api.set(topology(2));
        await().until(() -> src.current().orElseThrow().version() == 2);
        assertThat(api.requests).anySatisfy(r -> assertThat(r).endsWith("Bearer token-2"));
    }

    // ---- the fake API server -------------------------------------------------------------------------

    private static String topology(long version) {
        // with the operator's bookkeeping, which coordinators ignore
        return "{\"version\": " + version + ", \"revision\": " + (version * 3) + ", \"shards\": [{\"id\": \"s0\", "
                + "\"epoch\": 1, \"members\": [{\"id\": \"s0-0\", \"address\": \"h:1\", \"role\": \"primary\"}], "
                + "\"failover\": {\"epoch\": 2, \"phase\": \"fencing\"}}]}";
    }

    private ConfigMapTopologySource source(FakeApi api) {
        var src = new ConfigMapTopologySource(api.uri(), "ns", "topo",
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(), null, 16, TIMING);
        closeAfter.add(src);
        return src;
    }

    private FakeApi api(Path keystore) throws Exception {
        var api = new FakeApi(keystore);
        closeAfter.add(api);
        return api;
    }

    private static ConditionFactory await() {
        return Awaitility.await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1));
    }

    private static void keytool(String... args) throws Exception {
        var cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("keytool: %s", out).isZero();
    }

    /** One ConfigMap "topo" in namespace "ns", its list and its watch. */
    private static final class FakeApi implements AutoCloseable {
        private final HttpServer server;
        private final List<HttpExchange> watches = new ArrayList<>();
        private final List<long[]> history = new ArrayList<>(); // {resourceVersion, index into lines}
        private final List<String> lines = new ArrayList<>();
        private final AtomicLong watchRequests = new AtomicLong();
        final List<String> requests = new CopyOnWriteArrayList<>();
        volatile int failWith;
        volatile boolean silent;
        volatile String token;
        private String data;
        private long resourceVersion = 100;

        FakeApi(Path keystore) throws Exception {
            var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            if (keystore == null) {
                server = HttpServer.create(address, 0);
            } else {
                var https = HttpsServer.create(address, 0);
                var ks = KeyStore.getInstance("PKCS12");
                try (var in = Files.newInputStream(keystore)) {
                    ks.load(in, "changeit".toCharArray());
                }
                var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, "changeit".toCharArray());
                var tls = SSLContext.getInstance("TLS");
                tls.init(kmf.getKeyManagers(), null, null);
                https.setHttpsConfigurator(new HttpsConfigurator(tls));
                server = https;
            }
            server.setExecutor(Executors.newCachedThreadPool());
            server.createContext("/api/v1/namespaces/ns/configmaps", this::handle);
            server.start();
        }

        URI uri() {
            boolean tls = server instanceof HttpsServer;
            return URI.create((tls ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort());
        }

        private void handle(HttpExchange ex) throws IOException {
            String query = ex.getRequestURI().getRawQuery();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            requests.add(ex.getRequestURI() + " " + auth);
            if (token != null && !("Bearer " + token).equals(auth)) {
                reply(ex, 401, status(401, "Unauthorized"));
                return;
            }
            if (failWith != 0) {
                reply(ex, failWith, status(failWith, "configmaps \"topo\" is forbidden: User \"system:serviceaccount:ns:default\" "
                        + "cannot list resource \"configmaps\" in API group \"\" in the namespace \"ns\""));
                return;
            }
            if (!query.contains("fieldSelector=metadata.name%3Dtopo")) {
                reply(ex, 400, status(400, "this fake serves only the ConfigMap topo"));
                return;
            }
            if (query.contains("watch=true")) {
                watchRequests.incrementAndGet();
                long from = Long.parseLong(query.replaceAll(".*resourceVersion=(\\d+).*", "$1"));
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, 0);
                synchronized (this) { // what came after the version asked for, then every new event
                    for (long[] h : history) if (h[0] > from) write(ex, lines.get((int) h[1]));
                    watches.add(ex);
                }
                return;
            }
            synchronized (this) {
                var list = JSON.createObjectNode().put("kind", "ConfigMapList");
                list.putObject("metadata").put("resourceVersion", Long.toString(resourceVersion));
                var items = list.putArray("items");
                if (data != null) items.add(configMap());
                reply(ex, 200, list.toString());
            }
        }

        /** Writes the ConfigMap's topology.json and sends the event to open watches; returns System.nanoTime() of sending. */
        synchronized long set(String topologyJson) {
            String type = data == null ? "ADDED" : "MODIFIED";
            data = topologyJson;
            resourceVersion++;
            var event = JSON.createObjectNode().put("type", type);
            event.set("object", configMap());
            history.add(new long[] {resourceVersion, lines.size()});
            lines.add(event.toString());
            long sent = System.nanoTime();
            if (!silent) watches.removeIf(w -> !write(w, event.toString()));
            return sent;
        }

        synchronized void breakWatches() {
            watches.forEach(HttpExchange::close);
            watches.clear();
        }

        /** Tells every watch its version is too old, as the API server does after compaction. */
        synchronized void expireWatches() {
            var event = JSON.createObjectNode().put("type", "ERROR");
            event.set("object", JSON.createObjectNode().put("kind", "Status").put("code", 410).put("reason", "Expired")
                    .put("message", "too old resource version"));
            watches.forEach(w -> write(w, event.toString()));
            watches.clear();
            history.clear();
        }

        synchronized int watchesOpen() {
            return watches.size();
        }

        int watchRequests() {
            return (int) watchRequests.get();
        }

        private ObjectNode configMap() {
            var cm = JSON.createObjectNode().put("kind", "ConfigMap");
            cm.putObject("metadata").put("name", "topo").put("namespace", "ns")
                    .put("resourceVersion", Long.toString(resourceVersion));
            cm.putObject("data").put(ConfigMapTopologySource.DATA_KEY, data);
            return cm;
        }

        private static String status(int code, String message) {
            return JSON.createObjectNode().put("kind", "Status").put("status", "Failure").put("message", message)
                    .put("code", code).toString();
        }

        private static boolean write(HttpExchange w, String line) {
            try {
                w.getResponseBody().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                w.getResponseBody().flush();
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        private static void reply(HttpExchange ex, int code, String body) throws IOException {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(code, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        }

        @Override
        public void close() {
            breakWatches();
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }
}
