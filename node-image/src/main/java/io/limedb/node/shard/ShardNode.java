package io.limedb.node.shard;

import static io.limedb.node.config.NodeConfig.BIND_HOST;
import static io.limedb.node.config.NodeConfig.DATA_DIR;
import static io.limedb.node.config.NodeConfig.GRPC_PORT;
import static io.limedb.node.config.NodeConfig.HTTP_PORT;
import static io.limedb.node.config.NodeConfig.NODE_ID;

import io.grpc.Server;
import io.limedb.node.config.Limits;
import io.limedb.node.config.NodeConfig;
import io.limedb.node.http.HttpServer;
import io.limedb.node.metrics.NodeMetrics;
import io.limedb.node.replication.ReplicationGrpcService;
import io.limedb.api.members.RoleWire;
import io.limedb.node.replication.ShardReplication;
import io.limedb.node.storage.RocksDbStore;
import io.netty.channel.EventLoopGroup;
import io.limedb.node.net.GrpcServers;
import io.limedb.node.net.Transport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A shard node: RocksDB storage served over gRPC, with health, metrics and the pre-stop hook over HTTP. */
public final class ShardNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardNode.class);

    private final RocksDbStore store;
    private final ShardReplication replication;
    private final EventLoopGroup loops;
    private final Server grpc;
    private final ShardGrpcService shardService;
    private final HttpServer http;

    public ShardNode(NodeConfig c) throws Exception {
        String id = c.get(NODE_ID);
        Path dir = Path.of(c.get(DATA_DIR));
        long start = System.nanoTime();
        var budget = io.limedb.node.config.MemoryBudget.DETECTED;
        long blockCache = c.get(NodeConfig.ROCKSDB_BLOCK_CACHE_MB), valueCache = c.get(NodeConfig.VALUE_CACHE_MB);
        long writeBuffer = c.get(NodeConfig.ROCKSDB_WRITE_BUFFER_MB);
        LOG.info("shard {}: {}; in effect: block cache {} MiB, value cache {} MiB, memtables {} MiB", id, budget.describe(),
                blockCache, valueCache, writeBuffer);
        if (budget.exceeds(blockCache, valueCache, writeBuffer)) {
            LOG.warn("shard {}: the memory limit ({} MiB) is below what the shard may hold ({} MiB: heap, JVM, caches and "
                    + "memtables{}): under load it may be killed for memory; give the pod more{}", id, budget.limitMb(),
                    budget.plannedMb(blockCache, valueCache, writeBuffer),
                    budget.tight() ? ", all at their smallest" : ", as set", budget.tight() ? "" : " or set smaller caches");
        }
        store = RocksDbStore.open(dir, new RocksDbStore.Settings(c.get(NodeConfig.ROCKSDB_COMPRESSION),
                blockCache << 20, writeBuffer << 20, c.get(NodeConfig.ROCKSDB_SYNC), valueCache << 20));
        LOG.info("shard {}: RocksDB open at {} in {} ms, ~{} keys", id, dir.toAbsolutePath(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), store.estimatedKeys());
        var limits = Limits.from(c);
        var metrics = new NodeMetrics("shard", id);
        metrics.bindRocksDb(store);
        replication = new ShardReplication(id, store, c.replicationSettings());
        var engine = new ShardEngine(id, store, replication, limits, System::currentTimeMillis);
        metrics.gauge("limedb.replication.epoch", "highest epoch this member has persisted", () -> replication.status().getEpoch());
        metrics.gauge("limedb.replication.last.seq", "last log record applied", () -> replication.status().getLastSeq());
        metrics.gauge("limedb.replication.commit.seq", "highest record known acknowledged", () -> replication.status().getCommitSeq());
        metrics.gauge("limedb.replication.lag.records", "replica: records behind its primary", () -> replication.status().getLagRecords());
        metrics.gauge("limedb.replication.lag.ms", "replica: age of the oldest record not yet applied", () -> replication.status().getLagMs());
        metrics.gauge("limedb.replication.in.sync.replicas", "primary: replicas counted in sync", () -> replication.status().getInSyncReplicas());
        metrics.gauge("limedb.replication.role", "0 unknown, 1 primary, 2 replica, 3 standalone", () -> RoleWire.toWire(replication.role()).getNumber());
        metrics.gauge("limedb.replication.discarded.records", "records dropped by divergence truncation", () -> replication.status().getDiscardedRecords());
        Transport.select(c.get(NodeConfig.NET_TRANSPORT));
        loops = Transport.loops(0);
        shardService = new ShardGrpcService(engine, metrics);
        grpc = GrpcServers.start(c.get(BIND_HOST), c.get(GRPC_PORT), loops, limits.maxMessageBytes(),
                shardService, new ReplicationGrpcService(replication),
                new io.limedb.node.reshard.RangesGrpcService(replication, limits.maxMessageBytes()));
        http = new HttpServer(c.get(BIND_HOST), c.get(HTTP_PORT), loops, metrics, () -> true, 1 << 20,
                List.of(new PreStopHook(replication, c.get(NodeConfig.PRESTOP_WAIT_MS)).route()));
        LOG.info("shard {} serving gRPC on {}:{}, HTTP on {}:{}", id, c.get(BIND_HOST), grpc.getPort(),
                c.get(BIND_HOST), http.port());
    }

    @Override
    public void close() throws InterruptedException {
        http.close();
        grpc.shutdown();
        if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) grpc.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
        shardService.close();
        replication.close();
        store.close(); // after the server: no call is still using the database
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        LOG.info("shard stopped; RocksDB closed at {}", store.directory());
    }
}
