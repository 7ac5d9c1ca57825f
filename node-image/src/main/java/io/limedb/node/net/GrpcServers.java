package io.limedb.node.net;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;

/** Starts a node's gRPC server on its event loops, the way every node role does. */
public final class GrpcServers {
    private GrpcServers() {}

    /**
     * Handlers run on the event loop that read the call (directExecutor): they are short or
     * asynchronous, and a thread hop per call would cost more than the call.
     */
    public static Server start(String host, int port, EventLoopGroup loops, int maxMessageBytes,
            BindableService... services) throws IOException {
        var b = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .bossEventLoopGroup(loops)
                .workerEventLoopGroup(loops)
                .channelType(Transport.serverChannel())
                .directExecutor()
                .maxInboundMessageSize(maxMessageBytes);
        for (BindableService s : services) b.addService(s);
        return b.build().start();
    }
}
