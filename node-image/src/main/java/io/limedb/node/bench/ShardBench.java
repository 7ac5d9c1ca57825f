package io.limedb.node.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.limedb.api.v1.ExecuteRequest;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.node.storage.RocksDbStore;
import io.limedb.node.storage.StorageKeys;
import io.limedb.node.storage.StoredValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * `bench-shard`: throughput and latency of one shard's gRPC write and read paths, next to raw
 * RocksDB puts in this process (same key/value layout and settings) as the baseline.
 */
public final class ShardBench {
    private ShardBench() {}

    /** One measured case. */
    public record Result(String name, double opsPerSec, double p50us, double p99us) {
        @Override
        public String toString() {
            return String.format("%-38s %12.0f ops/s   p50 %8.1f us   p99 %8.1f us", name, opsPerSec, p50us, p99us);
        }
    }

    public static int run(List<String> args) throws Exception {
        String target = null, http = null;
        int seconds = 5, concurrency = 64, valueSize = 100, batch = 16;
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--target=")) target = v;
            else if (a.startsWith("--seconds=")) seconds = Integer.parseInt(v);
            else if (a.startsWith("--concurrency=")) concurrency = Integer.parseInt(v);
            else if (a.startsWith("--value-size=")) valueSize = Integer.parseInt(v);
            else if (a.startsWith("--batch=")) batch = Integer.parseInt(v);
            else if (a.startsWith("--http=")) http = v;
            else throw new IllegalArgumentException("unknown option " + a
                    + " (bench-shard --target=host:port [--http=host:port] [--seconds=5] [--concurrency=64] [--value-size=100] [--batch=16])");
        }
        if (target == null) throw new IllegalArgumentException("bench-shard needs --target=host:port of a shard");
        byte[] value = new byte[valueSize];
        Arrays.fill(value, (byte) 'x');
        var raw = rawRocksDb(seconds, value);
        System.out.println(raw);
        ManagedChannel ch = NettyChannelBuilder.forTarget(target).usePlaintext().directExecutor().build();
        try {
            var stub = ShardGrpc.newStub(ch);
            ByteString v = ByteString.copyFrom(value);
            int conc = concurrency;
            var put = closedLoop("grpc unary Put, " + conc + " in flight", seconds, conc, (i, done) ->
                    stub.put(PutRequest.newBuilder().setKey(key(i)).setValue(v).build(), observer(done)));
            System.out.println(put);
            var get = closedLoop("grpc unary Get, " + conc + " in flight", seconds, conc, (i, done) ->
                    stub.get(GetRequest.newBuilder().setKey(key(i)).build(), observer(done)));
            System.out.println(get);
            int b = batch;
            // While the shard is saturated with batched writes: how fast do Status and health answer?
            var probe = new ControlProbe(ch, http);
            probe.start();
            var batched = closedLoop("grpc Execute " + b + " puts/call, " + (conc / 4) + " calls in flight", seconds,
                    Math.max(1, conc / 4), (i, done) -> {
                        var req = ExecuteRequest.newBuilder();
                        for (int k = 0; k < b; k++) {
                            req.addOps(Op.newBuilder().setPut(PutRequest.newBuilder().setKey(key(i * b + k)).setValue(v)));
                        }
                        stub.execute(req.build(), observer(done));
                    });
            probe.stop();
            probe.print();
            var perOp = new Result(batched.name().replace("calls in flight", "calls in flight (per put)"),
                    batched.opsPerSec() * b, batched.p50us(), batched.p99us());
            System.out.println(perOp);
            System.out.printf("ratio unary Put / raw RocksDB put:        %.2fx%n", put.opsPerSec() / raw.opsPerSec());
            System.out.printf("ratio batched Put / raw RocksDB put:      %.2fx%n", perOp.opsPerSec() / raw.opsPerSec());
        } finally {
            ch.shutdownNow();
        }
        return 0;
    }

    /** Probes the Status RPC and /health/ready every 10 ms from a thread of its own (a controller's view). */
    static final class ControlProbe {
        private final ManagedChannel channel;
        private final String http;
        private final Latencies status = new Latencies();
        private final Latencies health = new Latencies();
        private final AtomicLong statusMax = new AtomicLong(), healthMax = new AtomicLong(), failures = new AtomicLong();
        private volatile boolean running = true;
        private Thread thread;

        ControlProbe(ManagedChannel channel, String http) {
            this.channel = channel;
            this.http = http;
        }

        void start() {
            var client = java.net.http.HttpClient.newHttpClient();
            var stub = io.limedb.api.v1.ReplicationGrpc.newBlockingStub(channel);
            thread = Thread.ofPlatform().daemon().start(() -> {
                while (running) {
                    long s = System.nanoTime();
                    try {
                        stub.withDeadlineAfter(5, TimeUnit.SECONDS).status(io.limedb.api.v1.StatusRequest.getDefaultInstance());
                        long d = System.nanoTime() - s;
                        status.record(d);
                        statusMax.accumulateAndGet(d, Math::max);
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                    }
                    if (http != null) {
                        s = System.nanoTime();
                        try {
                            client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + http + "/health/ready"))
                                    .timeout(java.time.Duration.ofSeconds(5)).build(),
                                    java.net.http.HttpResponse.BodyHandlers.discarding());
                            long d = System.nanoTime() - s;
                            health.record(d);
                            healthMax.accumulateAndGet(d, Math::max);
                        } catch (Exception e) {
                            failures.incrementAndGet();
                        }
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }

        void print() {
            System.out.printf("  under that load: Status RPC   p50 %8.1f us   p99 %8.1f us   max %8.1f us%n",
                    status.pct(50), status.pct(99), statusMax.get() / 1000.0);
            if (http != null) {
                System.out.printf("  under that load: /health/ready p50 %8.1f us   p99 %8.1f us   max %8.1f us%n",
                        health.pct(50), health.pct(99), healthMax.get() / 1000.0);
            }
            if (failures.get() > 0) System.out.printf("  under that load: %d probe(s) failed%n", failures.get());
        }
    }

    private static ByteString key(long i) {
        return ByteString.copyFrom(("bench:" + (i % 1_000_000)).getBytes(StandardCharsets.UTF_8));
    }

    /** Raw RocksDB puts from 2 threads with the shard's key and value encoding and default settings. */
    private static Result rawRocksDb(int seconds, byte[] value) throws Exception {
        Path dir = Files.createTempDirectory("limedb-bench-rocksdb");
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            byte[] encoded = new StoredValue(value, 0).encode();
            int threads = 2;
            var count = new AtomicLong();
            var lat = new Latencies();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = Thread.ofPlatform().start(() -> {
                    long i = id;
                    while (System.nanoTime() < end) {
                        long s = System.nanoTime();
                        store.put(StorageKeys.encode(("bench:" + (i % 1_000_000)).getBytes(StandardCharsets.UTF_8)), encoded);
                        lat.record(System.nanoTime() - s);
                        i += threads;
                        count.incrementAndGet();
                    }
                });
            }
            for (Thread w : workers) w.join();
            return new Result("raw RocksDB put (baseline), 2 threads", count.get() / (double) seconds, lat.pct(50), lat.pct(99));
        } finally {
            BenchFiles.deleteTree(dir);
        }
    }

    @FunctionalInterface
    interface Call {
        void start(long i, Consumer<Throwable> done);
    }

    private static <T> StreamObserver<T> observer(Consumer<Throwable> done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {}

            @Override
            public void onError(Throwable t) {
                done.accept(t);
            }

            @Override
            public void onCompleted() {
                done.accept(null);
            }
        };
    }

    /** Keeps `concurrency` calls in flight for the duration; each completion starts the next call. */
    private static Result closedLoop(String name, int seconds, int concurrency, Call call) throws InterruptedException {
        var lat = new Latencies();
        var count = new AtomicLong();
        var seq = new AtomicLong();
        var error = new AtomicReference<Throwable>();
        long warm = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        long end = warm + TimeUnit.SECONDS.toNanos(seconds);
        var finished = new CountDownLatch(concurrency);
        var live = new AtomicInteger(concurrency);
        for (int c = 0; c < concurrency; c++) {
            new Runnable() {
                long started;

                @Override
                public void run() {
                    long now = System.nanoTime();
                    if (now >= end || error.get() != null) {
                        live.decrementAndGet();
                        finished.countDown();
                        return;
                    }
                    started = now;
                    call.start(seq.getAndIncrement(), t -> {
                        long done = System.nanoTime();
                        if (t != null) error.compareAndSet(null, t);
                        if (started >= warm) {
                            lat.record(done - started);
                            count.incrementAndGet();
                        }
                        run();
                    });
                }
            }.run();
        }
        finished.await(seconds + 30L, TimeUnit.SECONDS);
        if (error.get() != null) throw new IllegalStateException(name + " failed: " + error.get(), error.get());
        return new Result(name, count.get() / (double) seconds, lat.pct(50), lat.pct(99));
    }

    /** Log-linear latency histogram in microseconds, thread-safe. */
    static final class Latencies {
        private final java.util.concurrent.atomic.AtomicLongArray buckets = new java.util.concurrent.atomic.AtomicLongArray(4096);

        void record(long nanos) {
            long us = Math.max(0, nanos / 1000);
            buckets.incrementAndGet(bucket(us));
        }

        private static int bucket(long us) {
            if (us < 1024) return (int) us;
            int exp = 63 - Long.numberOfLeadingZeros(us); // >= 10
            int mant = (int) ((us >> (exp - 6)) & 63);
            return Math.min(4095, 1024 + (exp - 10) * 64 + mant);
        }

        private static double value(int b) {
            if (b < 1024) return b;
            int exp = (b - 1024) / 64 + 10, mant = (b - 1024) % 64;
            return (64 + mant + 0.5) * Math.pow(2, exp - 6);
        }

        double pct(double p) {
            long total = 0;
            for (int i = 0; i < buckets.length(); i++) total += buckets.get(i);
            if (total == 0) return 0;
            long rank = (long) Math.ceil(total * p / 100.0), seen = 0;
            for (int i = 0; i < buckets.length(); i++) {
                seen += buckets.get(i);
                if (seen >= rank) return value(i);
            }
            return value(buckets.length() - 1);
        }
    }

}
