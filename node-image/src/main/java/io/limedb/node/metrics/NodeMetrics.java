package io.limedb.node.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.limedb.node.storage.RocksDbStore;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.rocksdb.TickerType;

/** The node's Prometheus registry: request counts and latency per protocol and operation, errors, RocksDB. */
public final class NodeMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();

    public NodeMetrics(String role, String nodeId) {
        registry.config().commonTags("role", role, "node", nodeId);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
    }

    // Latency buckets (Prometheus histogram): few enough that recording stays cheap on the hot path.
    private static final Duration[] BUCKETS = {Duration.ofNanos(50_000), Duration.ofNanos(100_000),
        Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000),
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1), Duration.ofSeconds(5)};

    /** The two timers (ok, error) of one protocol and operation; look one up once and keep it. */
    public final class RequestTimer {
        private final Timer ok;
        private final Timer error;

        private RequestTimer(String protocol, String op) {
            ok = timer(protocol, op, "ok");
            error = timer(protocol, op, "error");
        }

        public void record(boolean success, long nanos) {
            (success ? ok : error).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    private final ConcurrentHashMap<String, RequestTimer> handles = new ConcurrentHashMap<>();

    private Timer timer(String protocol, String op, String outcome) {
        return Timer.builder("limedb.requests")
                .description("Requests served, by protocol, operation and outcome")
                .tags("protocol", protocol, "op", op, "outcome", outcome)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    /** The timers of a protocol and operation (cached: call once per operation kind, not per request). */
    public RequestTimer timer(String protocol, String op) {
        return handles.computeIfAbsent(protocol + '|' + op, k -> new RequestTimer(protocol, op));
    }

    /** Records one request: protocol (resp, rest, grpc), operation, outcome and latency. Prefer a cached {@link #timer}. */
    public void request(String protocol, String op, boolean ok, long nanos) {
        timer(protocol, op).record(ok, nanos);
    }

    /**
     * Operations per batch a shard receives (Execute and Pipeline): how many requests travel together,
     * which sets what each one pays for the hop; see bench/README.md.
     */
    public io.micrometer.core.instrument.DistributionSummary batchOps() {
        return io.micrometer.core.instrument.DistributionSummary.builder("limedb.batch.ops")
                .description("Operations per batch received from coordinators")
                .register(registry);
    }

    /** Counts an error by its code (ErrorCode name, or PROTOCOL for malformed input). */
    public void error(String protocol, String code) {
        errors.computeIfAbsent(protocol + '|' + code, k -> Counter.builder("limedb.errors")
                .description("Request errors by protocol and error code")
                .tags("protocol", protocol, "code", code)
                .register(registry)).increment();
    }

    public void gauge(String name, String description, java.util.function.Supplier<Number> value) {
        Gauge.builder(name, () -> value.get()).description(description).register(registry);
    }

    /** RocksDB statistics tickers and properties, read at scrape time. */
    public void bindRocksDb(RocksDbStore store) {
        for (TickerType t : new TickerType[] {TickerType.BYTES_WRITTEN, TickerType.BYTES_READ,
                TickerType.NUMBER_KEYS_WRITTEN, TickerType.NUMBER_KEYS_READ, TickerType.BLOCK_CACHE_HIT,
                TickerType.BLOCK_CACHE_MISS, TickerType.BLOOM_FILTER_USEFUL, TickerType.COMPACT_READ_BYTES,
                TickerType.COMPACT_WRITE_BYTES, TickerType.FLUSH_WRITE_BYTES, TickerType.STALL_MICROS,
                TickerType.WAL_FILE_BYTES, TickerType.WAL_FILE_SYNCED}) {
            FunctionCounter.builder("limedb.rocksdb." + t.name().toLowerCase(Locale.ROOT), store,
                            s -> s.statistics().getTickerCount(t))
                    .description("RocksDB statistics ticker " + t.name()).register(registry);
        }
        for (String p : new String[] {"rocksdb.estimate-num-keys", "rocksdb.estimate-live-data-size",
                "rocksdb.total-sst-files-size", "rocksdb.cur-size-all-mem-tables", "rocksdb.block-cache-usage",
                "rocksdb.estimate-pending-compaction-bytes", "rocksdb.num-running-compactions"}) {
            Gauge.builder("limedb." + p.replace('-', '_'), store, s -> safeProperty(s, p))
                    .description("RocksDB property " + p).register(registry);
        }
        String[][] cache = {{"entries", "entries in the value cache (values and keys known absent)"},
                {"bytes", "bytes held by the value cache, as weighed (bytes of keys and values plus a fixed cost per entry)"},
                {"hits", "reads answered by the value cache"}, {"misses", "reads the value cache sent to RocksDB"}};
        for (int i = 0; i < cache.length; i++) {
            int at = i;
            Gauge.builder("limedb.value.cache." + cache[i][0], store, s -> {
                long[] f = s.valueCacheFigures();
                return f == null ? Double.NaN : f[at];
            }).description(cache[i][1]).register(registry);
        }
    }

    private static double safeProperty(RocksDbStore s, String p) {
        try {
            return s.longProperty(p);
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
