package io.limedb.node.resp;

import io.limedb.node.metrics.NodeMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.limedb.node.net.Transport;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.net.InetSocketAddress;

/** The Redis-protocol listener of a coordinator. */
public final class RespServer implements AutoCloseable {
    /**
     * Per-connection limits: arguments, bytes of one argument and of one command (larger is a
     * protocol error), and commands and bytes awaiting answers before reading pauses.
     */
    public record Settings(int maxArgs, int maxBulkBytes, int maxCommandBytes, int maxPipeline, int maxPendingBytes) {}

    private final Channel channel;

    public RespServer(String host, int port, EventLoopGroup loops, RespCommands commands, NodeMetrics metrics,
            Settings settings) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(loops, loops)
                .channel(Transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Past 1 MiB of answers the client has not taken, the connection stops being read.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FlushConsolidationHandler(256, true),
                                new RespDecoder(settings.maxArgs(), settings.maxBulkBytes(), settings.maxCommandBytes()),
                                new RespHandler(commands, metrics, settings.maxPipeline(), settings.maxPendingBytes()));
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
