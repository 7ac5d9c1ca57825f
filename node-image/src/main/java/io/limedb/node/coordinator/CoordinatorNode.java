package io.limedb.node.coordinator;

import static io.limedb.node.config.NodeConfig.BIND_HOST;

import io.grpc.Server;
import io.limedb.node.config.Limits;
import io.limedb.node.config.NodeConfig;
import io.limedb.node.http.HttpServer;
import io.limedb.node.metrics.NodeMetrics;
import io.limedb.node.resp.RespCommands;
import io.limedb.node.resp.RespServer;
import io.limedb.node.topology.ConfigMapTopologySource;
import io.limedb.node.topology.FileTopologySource;
import io.limedb.node.topology.TopologySource;
import io.netty.channel.EventLoopGroup;
import io.limedb.node.net.GrpcServers;
import io.limedb.node.net.Transport;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A coordinator node: REST, gRPC and RESP front ends over one request path, all on one set of event
 * loops that also carry the connections to the shards.
 */
public final class CoordinatorNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorNode.class);

    private final EventLoopGroup loops;
    private final TopologySource topology;
    private final Router router;
    private final ClusterAdmin admin;
    private final RespServer resp;
    private final HttpServer http;
    private final Server grpc;

    public CoordinatorNode(NodeConfig c) throws Exception {
        var limits = Limits.from(c);
        var metrics = new NodeMetrics("coordinator", c.get(NodeConfig.NODE_ID));
        Transport.select(c.get(NodeConfig.NET_TRANSPORT));
        loops = Transport.loops(Runtime.getRuntime().availableProcessors());
        int maxMessage = limits.maxMessageBytes();
        checkByteLimits(c, limits);
        router = new Router(loops, new Router.LinkSettings(c.get(NodeConfig.RPC_DEADLINE_MS),
                c.get(NodeConfig.RPC_MAX_INFLIGHT), c.get(NodeConfig.RPC_MAX_BATCH_OPS),
                c.get(NodeConfig.RPC_MAX_BATCH_BYTES), c.get(NodeConfig.RPC_MAX_QUEUED_BYTES), maxMessage),
                c.get(NodeConfig.READ_FROM) == NodeConfig.ReadFrom.REPLICA);
        topology = topologySource(c);
        topology.subscribe(router::update);
        router.onRefresh(topology::refresh);
        var coordinator = new Coordinator(router, limits, c.get(NodeConfig.RETRY_BUDGET_MS));
        admin = new ClusterAdmin(router);
        String host = c.get(BIND_HOST);
        int maxArgs = limits.maxMultiKeys() * 2 + 16;
        resp = new RespServer(host, c.get(NodeConfig.RESP_PORT), loops,
                new RespCommands(coordinator, admin, System::currentTimeMillis), metrics,
                new RespServer.Settings(maxArgs, limits.maxValueBytes(), c.get(NodeConfig.MAX_RESP_COMMAND_BYTES),
                        c.get(NodeConfig.MAX_PIPELINE), c.get(NodeConfig.MAX_RESP_PENDING_BYTES)));
        var rest = new RestApi(coordinator, admin, topology.describe(), System::currentTimeMillis);
        http = new HttpServer(host, c.get(NodeConfig.HTTP_PORT), loops, metrics, () -> topology.current().isPresent(),
                limits.maxValueBytes() * 2 + limits.maxKeyBytes() * 2 + 4096, rest.routes());
        grpc = GrpcServers.start(host, c.get(NodeConfig.GRPC_PORT), loops, maxMessage, new KvGrpcService(coordinator, metrics));
        LOG.info("coordinator serving RESP on {}:{}, HTTP on {}:{}, gRPC on {}:{} ({}); topology from {}", host, resp.port(),
                host, http.port(), host, grpc.getPort(), Transport.name(), topology.describe());
    }

    /** The ConfigMap through the Kubernetes API when topology.configmap is set, else the topology file. */
    private static TopologySource topologySource(NodeConfig c) {
        String configMap = c.get(NodeConfig.TOPOLOGY_CONFIGMAP);
        int vnodes = c.get(NodeConfig.RING_VNODES);
        return configMap.isEmpty()
                ? new FileTopologySource(Path.of(c.get(NodeConfig.TOPOLOGY_FILE)), vnodes, c.get(NodeConfig.TOPOLOGY_POLL_MS))
                : ConfigMapTopologySource.inCluster(c.get(NodeConfig.TOPOLOGY_NAMESPACE), configMap, vnodes);
    }

    /** Byte limits that must hold the largest operation; refused at startup rather than at the first big value. */
    static void checkByteLimits(NodeConfig c, Limits limits) {
        long op = limits.maxOpBytes();
        int command = c.get(NodeConfig.MAX_RESP_COMMAND_BYTES);
        if (command < op) {
            throw new IllegalArgumentException(NodeConfig.MAX_RESP_COMMAND_BYTES.name() + "=" + command
                    + " cannot hold a SET of the largest key and value: make it at least " + op
                    + " (limits.value.bytes + limits.key.bytes + 1024)");
        }
        long batch = c.get(NodeConfig.RPC_MAX_BATCH_BYTES);
        if (batch + op > limits.maxMessageBytes()) {
            throw new IllegalArgumentException(NodeConfig.RPC_MAX_BATCH_BYTES.name() + "=" + batch
                    + " plus one largest operation (" + op + " bytes) exceeds the largest message a shard accepts ("
                    + limits.maxMessageBytes() + " bytes): make it at most " + (limits.maxMessageBytes() - op));
        }
        long answers = (long) c.get(NodeConfig.RPC_MAX_BATCH_OPS) * Limits.SMALL_ANSWER_BYTES;
        if (answers >= limits.replyBudgetBytes()) {
            throw new IllegalArgumentException(NodeConfig.RPC_MAX_BATCH_OPS.name() + "=" + c.get(NodeConfig.RPC_MAX_BATCH_OPS)
                    + ": the answers of a full batch (" + Limits.SMALL_ANSWER_BYTES
                    + " bytes each) would pass the shards' reply budget of " + limits.replyBudgetBytes()
                    + " bytes (limits.reply.bytes), which refuses such batches: make it at most "
                    + ((limits.replyBudgetBytes() - 1) / Limits.SMALL_ANSWER_BYTES));
        }
    }

    @Override
    public void close() throws InterruptedException {
        resp.close();
        http.close();
        grpc.shutdown().awaitTermination(3, TimeUnit.SECONDS);
        topology.close();
        router.close();
        admin.close();
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
