package io.limedb.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A continuous writer of unique keys through the coordinator's REST API. Outcomes are classified by
 * status code only: 200 applied; 500/504 (and a broken connection) unknown; anything else not applied.
 * Keeps every acknowledged key, and the time of each failure, to check and to measure afterwards.
 */
final class Writer implements AutoCloseable {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final URI base;
    private final String prefix;
    private final Thread[] threads;
    private volatile boolean running = true;
    final ConcurrentLinkedQueue<String> acknowledged = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> failureNanos = new ConcurrentLinkedQueue<>();
    final AtomicLong notApplied = new AtomicLong();
    final AtomicLong unknown = new AtomicLong();
    final AtomicLong lastAckNanos = new AtomicLong();
    final ConcurrentLinkedQueue<Long> ackNanos = new ConcurrentLinkedQueue<>();
    final Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();

    Writer(int localPort, String prefix, int clients) {
        this.base = URI.create("http://127.0.0.1:" + localPort);
        this.prefix = prefix;
        this.threads = new Thread[clients];
        for (int i = 0; i < clients; i++) {
            int id = i;
            threads[i] = new Thread(() -> loop(id), "writer-" + prefix + "-" + i);
            threads[i].setDaemon(true);
            threads[i].start();
        }
    }

    private void loop(int id) {
        long n = 0;
        while (running) {
            String key = prefix + "-" + id + "-" + n++;
            int code;
            try {
                var body = "{\"key\":\"" + key + "\",\"value\":\"v-" + key + "\"}";
                var resp = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/set"))
                        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                code = resp.statusCode();
            } catch (java.io.IOException e) {
                code = -1;
            } catch (InterruptedException e) {
                return;
            }
            byStatus.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
            if (code == 200) {
                acknowledged.add(key);
                long now = System.nanoTime();
                lastAckNanos.set(now);
                ackNanos.add(now);
            } else {
                failureNanos.add(System.nanoTime());
                if (code == 500 || code == 504 || code == -1) unknown.incrementAndGet();
                else notApplied.incrementAndGet();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    long errors() {
        return notApplied.get() + unknown.get();
    }

    /** The longest time without any acknowledgement between {@code from} and {@code to} (nanoTime), in ms. */
    double longestGapMs(long from, long to) {
        long prev = from;
        long worst = 0;
        for (long t : ackNanos.stream().filter(t -> t >= from && t <= to).sorted().toList()) {
            worst = Math.max(worst, t - prev);
            prev = t;
        }
        return Math.max(worst, to - prev) / 1e6;
    }

    /** The first acknowledgement at or after {@code nanos}, waiting up to {@code timeout}; -1 if none. */
    long firstAckAfter(long nanos, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            var first = ackNanos.stream().filter(t -> t >= nanos).min(Long::compare);
            if (first.isPresent()) return first.get();
            Thread.sleep(5);
        }
        return -1;
    }

    List<String> keys() {
        return List.copyOf(acknowledged);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) t.join(15_000);
    }

    @Override
    public String toString() {
        return acknowledged.size() + " acknowledged, " + notApplied.get() + " not applied, " + unknown.get()
                + " unknown; by status " + byStatus;
    }
}
