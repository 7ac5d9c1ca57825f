package io.limedb.node.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The network transport every listener and shard connection uses: Linux epoll when the native
 * library loads (fewer system calls per request), else Java NIO. One choice per process.
 */
public final class Transport {
    /** auto: epoll where available; nio or epoll: that one (epoll fails clearly where unavailable). */
    public enum Mode { AUTO, NIO, EPOLL }

    private static volatile boolean epoll;

    private Transport() {}

    public static void select(Mode mode) {
        if (mode == Mode.EPOLL && !Epoll.isAvailable()) {
            throw new IllegalArgumentException("net.transport=epoll but epoll is unavailable: " + Epoll.unavailabilityCause());
        }
        epoll = mode == Mode.EPOLL || (mode == Mode.AUTO && Epoll.isAvailable());
    }

    public static String name() {
        return epoll ? "epoll" : "nio";
    }

    public static EventLoopGroup loops(int threads) {
        IoHandlerFactory f = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, f);
    }

    public static Class<? extends ServerSocketChannel> serverChannel() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public static Class<? extends SocketChannel> clientChannel() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
