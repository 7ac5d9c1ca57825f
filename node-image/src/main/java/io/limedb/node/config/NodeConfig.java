package io.limedb.node.config;

import static io.limedb.node.config.ConfigKey.bool;
import static io.limedb.node.config.ConfigKey.oneOf;
import static io.limedb.node.config.ConfigKey.port;
import static io.limedb.node.config.ConfigKey.positiveInt;
import static io.limedb.node.config.ConfigKey.positiveLong;
import static io.limedb.node.config.ConfigKey.string;

import io.limedb.core.topology.ReplicationMode;
import io.limedb.node.replication.ReplicationSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Every configuration key of the node, declared once, and the values resolved for this process. */
public final class NodeConfig {

    public enum NodeRole { SHARD, COORDINATOR }

    public enum Compression { NONE, SNAPPY, LZ4, ZSTD }

    public enum ReadFrom { PRIMARY, REPLICA }

    public static final ConfigKey<NodeRole> ROLE = oneOf("role", NodeRole.SHARD, NodeRole.class,
            "shard (stores data in RocksDB) or coordinator (routes client requests to shards)");
    public static final ConfigKey<String> NODE_ID = string("node.id", "shard-0",
            "this node's name; for a shard, the shard id the topology knows it by");
    public static final ConfigKey<String> BIND_HOST = string("bind.host", "0.0.0.0",
            "address every listener binds to");
    public static final ConfigKey<Integer> GRPC_PORT = port("grpc.port", 9090,
            "gRPC port: the Shard service on a shard, the KV service on a coordinator");
    public static final ConfigKey<Integer> HTTP_PORT = port("http.port", 8080,
            "HTTP port: health (/health/live, /health/ready), metrics (/metrics) and, on a coordinator, REST");
    public static final ConfigKey<Integer> RESP_PORT = port("resp.port", 6379,
            "Redis protocol (RESP2) port, coordinator only");
    public static final ConfigKey<String> DATA_DIR = string("data.dir", "./data",
            "shard only: RocksDB directory");
    public static final ConfigKey<String> TOPOLOGY_FILE = string("topology.file", "topology.json",
            "coordinator only: topology JSON file, reloaded when it changes");
    public static final ConfigKey<Long> TOPOLOGY_POLL_MS = positiveLong("topology.poll.ms", 1000,
            "coordinator only: how often the topology file is checked for changes");
    public static final ConfigKey<String> TOPOLOGY_CONFIGMAP = string("topology.configmap", "",
            "coordinator only: name of the topology ConfigMap (data key topology.json); when set, the coordinator "
                    + "watches it through the Kubernetes API (in-cluster service account) instead of reading topology.file");
    public static final ConfigKey<String> TOPOLOGY_NAMESPACE = string("topology.namespace", "",
            "coordinator only: namespace of topology.configmap; empty = the pod's own (from its service account)");
    public static final ConfigKey<Integer> RING_VNODES = positiveInt("ring.vnodes", 256,
            "virtual nodes per shard when the topology does not say");
    public static final ConfigKey<Long> RPC_DEADLINE_MS = positiveLong("rpc.deadline.ms", 3000,
            "coordinator only: how long a shard has to answer before the request fails with outcome unknown; "
                    + "keep it above replication.ack.timeout.ms so that a slow commit gets the shard's own answer");
    public static final ConfigKey<Long> RETRY_BUDGET_MS = positiveLong("coordinator.retry.budget.ms", 1500,
            "coordinator only: how long a request that was certainly not applied is retried while a failover "
                    + "settles (a replicated shard's primary unreachable, not primary yet, waiting out the old "
                    + "lease), capped by rpc.deadline.ms; after it the client gets the error (not applied, retry). "
                    + "Keep it below your clients' timeouts (Jedis: 2 s)");
    public static final ConfigKey<io.limedb.node.net.Transport.Mode> NET_TRANSPORT = oneOf("net.transport",
            io.limedb.node.net.Transport.Mode.AUTO, io.limedb.node.net.Transport.Mode.class,
            "network transport: auto (Linux epoll when available, else Java NIO), nio or epoll");
    public static final ConfigKey<Integer> RPC_MAX_INFLIGHT = positiveInt("rpc.max.inflight.batches", 4,
            "coordinator only: batches in flight per shard per event loop; more requests wait and batch up");
    public static final ConfigKey<Integer> RPC_MAX_BATCH_OPS = positiveInt("rpc.max.batch.ops", 256,
            "coordinator only: most operations sent to a shard in one batch");
    public static final ConfigKey<Integer> RPC_MAX_BATCH_BYTES = positiveInt("rpc.max.batch.bytes", 4 << 20,
            "coordinator only: most bytes of operations sent to a shard in one batch (a larger operation goes alone)");
    public static final ConfigKey<Long> RPC_MAX_QUEUED_BYTES = positiveLong("rpc.max.queued.bytes", 64L << 20,
            "coordinator only: bytes of requests waiting for or in flight to one shard, per event loop; beyond it "
                    + "requests are refused with BUSY (RESP TRYAGAIN, HTTP 503, gRPC RESOURCE_EXHAUSTED), nothing sent");
    public static final ConfigKey<ReadFrom> READ_FROM = oneOf("read.from", ReadFrom.PRIMARY, ReadFrom.class,
            "coordinator only: primary (reads are linearizable) or replica (GETs go to replicas: "
                    + "less load on primaries, but a read may return a value older than one already acknowledged)");
    public static final ConfigKey<Integer> MAX_KEY_BYTES = positiveInt("limits.key.bytes", 64 * 1024,
            "largest key accepted, in bytes");
    public static final ConfigKey<Integer> MAX_VALUE_BYTES = positiveInt("limits.value.bytes", 16 * 1024 * 1024,
            "largest value accepted, in bytes");
    public static final ConfigKey<Integer> MAX_MULTI_KEYS = positiveInt("limits.multi.keys", 100_000,
            "most keys in one multi-key request (MGET, MSET, DEL, multi-get, batch write)");
    public static final ConfigKey<Long> MAX_REPLY_BYTES = new ConfigKey<>("limits.reply.bytes", 0L,
            "shard only: bytes of answers in one reply to a batch or a multi-get; a batch's remaining reads are "
                    + "then refused with REPLY_FULL (not run: the coordinator sends them again at once) and a multi-get "
                    + "fails with TOO_LARGE. 0 = the largest that always fits the coordinator's inbound limit "
                    + "(48 MiB - 129 KiB with the default limits); larger values are capped at that", s -> {
                        long v = Long.parseLong(s);
                        if (v < 0) throw new IllegalArgumentException("must be >= 0 (0 = derived from the limits)");
                        return v;
                    });
    public static final ConfigKey<Integer> MAX_PIPELINE = positiveInt("limits.resp.pipeline", 10_000,
            "RESP: pipelined commands waiting for answers per connection before the server stops reading it");
    public static final ConfigKey<Integer> MAX_RESP_PENDING_BYTES = positiveInt("limits.resp.pending.bytes", 64 << 20,
            "RESP: bytes of commands waiting for answers and of answers not yet sent, per connection, before the "
                    + "server stops reading it");
    public static final ConfigKey<Integer> MAX_RESP_COMMAND_BYTES = positiveInt("limits.resp.command.bytes", 64 << 20,
            "RESP: largest command (all its arguments, as sent); a larger one is a protocol error and closes the "
                    + "connection. At least limits.value.bytes + limits.key.bytes + 1024, so that the largest SET fits");
    public static final ConfigKey<Compression> ROCKSDB_COMPRESSION = oneOf("rocksdb.compression",
            Compression.LZ4, Compression.class, "shard only: RocksDB block compression (none, snappy, lz4, zstd)");
    public static final ConfigKey<Long> ROCKSDB_BLOCK_CACHE_MB = positiveLong("rocksdb.block.cache.mb",
            MemoryBudget.DETECTED.blockCacheMb(), "shard only: RocksDB block cache size in MiB; default: 40% of what "
                    + "the container's memory limit leaves after the heap and 128 MiB for the JVM, 128 without a limit "
                    + "(see Memory in the README)");
    public static final ConfigKey<Long> VALUE_CACHE_MB = new ConfigKey<>("value.cache.mb",
            MemoryBudget.DETECTED.valueCacheMb(),
            "shard only: MiB of native memory (outside the heap, within -XX:MaxDirectMemorySize) for recent values "
                    + "and keys found absent, in front of RocksDB: a GET that finds its key there does not read RocksDB. "
                    + "Never older than RocksDB: a write replaces its key's entry. Oldest dropped first. 0 = off, at "
                    + "most 2047; default: 20% of what the container's memory limit leaves after the heap and 128 MiB "
                    + "for the JVM (at most half the heap); without a limit 128, or a quarter of the heap when that is less", s -> {
                        long v = Long.parseLong(s);
                        if (v < 0 || v > 2047) throw new IllegalArgumentException("must be 0 (off) to 2047");
                        return v;
                    });
    public static final ConfigKey<Long> ROCKSDB_WRITE_BUFFER_MB = positiveLong("rocksdb.write.buffer.mb",
            MemoryBudget.DETECTED.writeBufferMb(), "shard only: RocksDB memtable memory of the data in MiB: up to 16 "
                    + "memtables that share it, none below 1 MiB (small enough to stay in the CPU caches), half of them "
                    + "flushed together; the replication "
                    + "log's memtables take up to half as much again. Default: 64, or 20% of what the container's memory "
                    + "limit leaves after the heap and 128 MiB for the JVM when that is less");
    public static final ConfigKey<Boolean> ROCKSDB_SYNC = bool("rocksdb.sync", false,
            "shard only: fsync the WAL on every write (survives power loss; slower). "
                    + "Without it the WAL is still written on every write and survives a process crash");
    public static final ConfigKey<ReplicationMode> REPLICATION_MODE = oneOf(
            "replication.mode", ReplicationMode.NONE, ReplicationMode.class,
            "shard only: none (standalone shard), sync (acknowledge a write after min.in.sync-1 replicas applied it) "
                    + "or async (acknowledge after the local write; replicas may lag: the loss window on failover)");
    public static final ConfigKey<Integer> MIN_IN_SYNC = positiveInt("replication.min.in.sync", 2,
            "shard only, sync mode: copies (primary included) that hold a write before it is acknowledged; "
                    + "with fewer replicas in sync, writes are refused with NOT_ENOUGH_REPLICAS");
    public static final ConfigKey<Long> ACK_TIMEOUT_MS = positiveLong("replication.ack.timeout.ms", 1500,
            "shard only, sync mode: how long a write waits for replica acknowledgements before failing (outcome unknown)");
    public static final ConfigKey<Long> LAG_MAX_MS = positiveLong("replication.lag.max.ms", 2000,
            "shard only: a replica not caught up for this long is no longer counted in sync (caught up at T: it has "
            + "acknowledged all the primary's log held at T)");
    public static final ConfigKey<Long> LEASE_MS = positiveLong("replication.lease.ms", 1000,
            "shard only, sync mode: a primary serves reads only while replicas renewed its lease within this time; "
                    + "a new primary waits this long (plus 10% for clock drift) before serving, so a deposed primary that "
                    + "cannot be reached stops serving reads before its successor starts");
    public static final ConfigKey<Long> LOG_RETAIN = positiveLong("replication.log.retain", 200_000,
            "shard only: log records kept for replicas that fall behind; further behind, they copy a snapshot");
    public static final ConfigKey<Long> PRESTOP_WAIT_MS = positiveLong("lifecycle.prestop.wait.ms", 20_000,
            "shard only: how long GET /lifecycle/pre-stop holds a primary's answer while it waits to be stepped down "
                    + "(the operator moves the primary before the pod stops); keep it below the pod's grace period");
    public static final ConfigKey<Long> PARENT_PID = new ConfigKey<>("parent.pid", 0L,
            "exit when this process is gone (set by `dev` for the processes it starts); 0 = off", Long::parseLong);

    public static final List<ConfigKey<?>> ALL = List.of(ROLE, NODE_ID, BIND_HOST, GRPC_PORT, HTTP_PORT, RESP_PORT,
            DATA_DIR, NET_TRANSPORT, TOPOLOGY_FILE, TOPOLOGY_POLL_MS, TOPOLOGY_CONFIGMAP,
            TOPOLOGY_NAMESPACE, RING_VNODES, RPC_DEADLINE_MS, RETRY_BUDGET_MS, RPC_MAX_INFLIGHT,
            RPC_MAX_BATCH_OPS, RPC_MAX_BATCH_BYTES, RPC_MAX_QUEUED_BYTES, READ_FROM, MAX_KEY_BYTES, MAX_VALUE_BYTES,
            MAX_MULTI_KEYS, MAX_REPLY_BYTES, MAX_PIPELINE, MAX_RESP_PENDING_BYTES, MAX_RESP_COMMAND_BYTES, ROCKSDB_COMPRESSION,
            ROCKSDB_BLOCK_CACHE_MB, VALUE_CACHE_MB, ROCKSDB_WRITE_BUFFER_MB, ROCKSDB_SYNC, REPLICATION_MODE, MIN_IN_SYNC, ACK_TIMEOUT_MS,
            LAG_MAX_MS, LEASE_MS, LOG_RETAIN, PRESTOP_WAIT_MS, PARENT_PID);

    private final Map<String, Object> values = new HashMap<>();

    private NodeConfig() {}

    /** Resolves every key from arguments ({@code --name=value}), environment, system properties, defaults. */
    public static NodeConfig resolve(List<String> args, Map<String, String> env, Function<String, String> props) {
        var cli = new HashMap<String, String>();
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("expected --key=value, got '" + a + "' (see --help)");
            }
            String name = a.substring(2, a.indexOf('='));
            if (name.startsWith("limedb.")) name = name.substring(7);
            cli.put(name.replace('-', '.'), a.substring(a.indexOf('=') + 1));
        }
        var config = new NodeConfig();
        for (ConfigKey<?> key : ALL) {
            String raw = cli.remove(key.name());
            if (raw == null) raw = env.get(key.envName());
            if (raw == null) raw = props.apply(key.propertyName());
            config.values.put(key.name(), raw == null ? key.defaultValue() : key.parse(raw));
        }
        if (!cli.isEmpty()) {
            throw new IllegalArgumentException("unknown configuration key(s) " + cli.keySet() + " (see --help)");
        }
        return config;
    }

    public static NodeConfig fromArgs(List<String> args) {
        return resolve(args, System.getenv(), System::getProperty);
    }

    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        return (T) values.get(key.name());
    }

    /** The replication.* keys as the shard's replication settings. */
    public ReplicationSettings replicationSettings() {
        return new ReplicationSettings(get(REPLICATION_MODE), get(MIN_IN_SYNC), get(ACK_TIMEOUT_MS), get(LAG_MAX_MS),
                get(LOG_RETAIN), get(LEASE_MS), Limits.from(this).maxReplicationMessageBytes());
    }

    /** Text for --help: every key with its environment variable, default and description. */
    public static String help() {
        var sb = new StringBuilder();
        for (ConfigKey<?> k : ALL) {
            sb.append(String.format("  --%-26s %-32s default: %s%n      %s%n",
                    k.name() + "=…", k.envName(), k.defaultValue(), k.description()));
        }
        return sb.toString();
    }
}
