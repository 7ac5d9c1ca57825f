package io.limedb.node.dev;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The local cluster's control endpoint (what `kubectl scale` is on Kubernetes):
 * <pre>
 *   curl -s localhost:8070/shards                   the ring, and the resharding in progress
 *   curl -s -X POST 'localhost:8070/shards?count=4' add or remove shards (answers at once; see GET)
 *   curl -s -X DELETE localhost:8070/shards         roll the resharding in progress back
 * </pre>
 */
final class DevControl implements AutoCloseable {
    private final LocalCluster cluster;
    private final HttpServer server;
    private final AtomicReference<String> running = new AtomicReference<>();
    private volatile String last = "";

    DevControl(LocalCluster cluster, String host, int port) throws IOException {
        this.cluster = cluster;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            var t = new Thread(r, "dev-control");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/shards", this::shards);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void shards(HttpExchange x) throws IOException {
        try (x) {
            var c = cluster.controller();
            if (x.getRequestMethod().equals("GET")) {
                String body = "shards: " + cluster.shardCount() + "\n"
                        + (c == null ? "standalone shards: no controller\n" : c.ringSummary() + "\n")
                        + (running.get() == null ? "" : "running: " + running.get() + "\n")
                        + (last.isEmpty() ? "" : "last: " + last + "\n");
                reply(x, 200, body);
                return;
            }
            if (x.getRequestMethod().equals("DELETE")) {
                if (c == null || !c.rollBack()) {
                    reply(x, 409, "no resharding in progress\n");
                    return;
                }
                reply(x, 202, "rolling back: what moved moves back (GET /shards shows progress)\n");
                return;
            }
            if (!x.getRequestMethod().equals("POST")) {
                reply(x, 405, "use GET, POST /shards?count=N, or DELETE /shards (roll back the resharding in progress)\n");
                return;
            }
            String q = x.getRequestURI().getQuery();
            int count;
            try {
                if (q == null || !q.startsWith("count=")) throw new NumberFormatException();
                count = Integer.parseInt(q.substring("count=".length()));
                if (count < 1 || count > 64) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                reply(x, 400, "POST /shards?count=N with N from 1 to 64\n");
                return;
            }
            if (c == null) {
                reply(x, 409, "adding or removing shards needs replicated shards (a log to catch up from): "
                        + "run make dev with REPLICAS=2 or more\n");
                return;
            }
            String job = cluster.shardCount() + " -> " + count + " shards";
            if (!running.compareAndSet(null, job)) {
                reply(x, 409, "already running: " + running.get() + "; wait for it (GET /shards)\n");
                return;
            }
            Thread.ofPlatform().daemon().name("dev-scale").start(() -> {
                long t0 = System.nanoTime();
                try {
                    cluster.scaleTo(count, Duration.ofMinutes(30));
                    last = job + ": done in " + (System.nanoTime() - t0) / 1_000_000 + " ms";
                } catch (Exception e) {
                    last = job + ": failed: " + e.getMessage();
                } finally {
                    running.set(null);
                }
                System.out.println("limedb dev: " + last);
            });
            reply(x, 202, "started: " + job + " (GET /shards shows progress)\n");
        }
    }

    private static void reply(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        x.sendResponseHeaders(status, b.length);
        x.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
