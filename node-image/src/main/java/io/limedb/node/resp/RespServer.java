package io.limedb.node.resp;

import io.limedb.node.metrics.NodeMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.limedb.node.net.Transport;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.net.InetSocketAddress;

/** The Redis-protocol listener of a coordinator. */
public final class RespServer implements AutoCloseable {
    private final Channel channel;

    public RespServer(String host, int port, EventLoopGroup loops, RespCommands commands, NodeMetrics metrics,
            int maxArgs, int maxBulkBytes, int maxPipeline) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(loops, loops)
                .channel(Transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FlushConsolidationHandler(256, true),
                                new RespDecoder(maxArgs, maxBulkBytes),
                                new RespHandler(commands, metrics, maxPipeline));
                    }
                })
                .bind(host, port).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
