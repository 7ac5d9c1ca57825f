package io.limedb.node.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.metrics.NodeMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.limedb.node.net.Transport;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * The node's HTTP listener: health and metrics on every node, plus whatever routes the role adds
 * (the coordinator's REST API). Handlers return futures, so the event loop never waits.
 */
public final class HttpServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A request as a handler sees it: method, decoded path, body. */
    public record Request(HttpMethod method, String path, byte[] body) {}

    /** What a handler answers. */
    public record Response(int status, String contentType, byte[] body) {
        public static Response json(int status, Object value) {
            try {
                return new Response(status, "application/json", JSON.writeValueAsBytes(value));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        public static Response text(int status, String text) {
            return new Response(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        }

        public static Response error(LimeException e) {
            return json(e.code().http(), Map.of("error", e.getMessage(), "code", e.code().name()));
        }
    }

    /** A route: the method and the path prefix it owns (exact match unless it ends with '/'). */
    public record Route(HttpMethod method, String path, Handler handler) {
        boolean matches(String p) {
            return path.endsWith("/") ? p.startsWith(path) && p.length() > path.length() : p.equals(path);
        }
    }

    @FunctionalInterface
    public interface Handler {
        CompletableFuture<Response> handle(Request request);
    }

    private final Channel channel;
    private final List<Route> routes = new ArrayList<>();

    public HttpServer(String host, int port, EventLoopGroup loops, NodeMetrics metrics, BooleanSupplier ready,
            int maxBodyBytes, List<Route> extraRoutes) throws InterruptedException {
        routes.add(new Route(HttpMethod.GET, "/health/live", r -> done(Response.json(200, Map.of("status", "UP")))));
        routes.add(new Route(HttpMethod.GET, "/health/ready", r -> done(ready.getAsBoolean()
                ? Response.json(200, Map.of("status", "UP")) : Response.json(503, Map.of("status", "DOWN")))));
        routes.add(new Route(HttpMethod.GET, "/metrics",
                r -> done(new Response(200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.scrape().getBytes(StandardCharsets.UTF_8)))));
        routes.addAll(extraRoutes);
        channel = new ServerBootstrap()
                .group(loops, loops)
                .channel(Transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(maxBodyBytes),
                                new Dispatcher(metrics));
                    }
                })
                .bind(host, port).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    static CompletableFuture<Response> done(Response r) {
        return CompletableFuture.completedFuture(r);
    }

    private final class Dispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final NodeMetrics metrics;

        Dispatcher(NodeMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            long start = System.nanoTime();
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!req.decoderResult().isSuccess()) {
                write(ctx, Response.json(400, Map.of("error", "malformed HTTP request")), false);
                return;
            }
            String path = new QueryStringDecoder(req.uri()).rawPath();
            byte[] body = new byte[req.content().readableBytes()];
            req.content().readBytes(body);
            var request = new Request(req.method(), path, body);
            CompletableFuture<Response> result;
            String op = "unknown";
            try {
                Route route = find(req.method(), path);
                op = route == null ? "not_found" : opName(route.path());
                result = route == null ? done(notFound(req.method(), path)) : route.handler().handle(request);
            } catch (RuntimeException e) {
                result = CompletableFuture.failedFuture(e);
            }
            String opName = op;
            result.handle((r, t) -> r != null ? r : Response.error(LimeException.of(t))).thenAccept(r -> {
                if (path.startsWith("/api/")) metrics.request("rest", opName, r.status() < 500, System.nanoTime() - start);
                if (ctx.executor().inEventLoop()) write(ctx, r, keepAlive);
                else ctx.executor().execute(() -> write(ctx, r, keepAlive));
            });
        }

        private Route find(HttpMethod method, String path) {
            for (Route r : routes) {
                if (r.method().equals(method) && r.matches(path)) return r;
            }
            return null;
        }

        private Response notFound(HttpMethod method, String path) {
            for (Route r : routes) {
                if (r.matches(path)) {
                    return Response.json(405, Map.of("error", "method " + method + " not allowed on " + path));
                }
            }
            return Response.json(404, Map.of("error", "no such endpoint: " + path));
        }

        private static String opName(String routePath) {
            String p = routePath.endsWith("/") ? routePath.substring(0, routePath.length() - 1) : routePath;
            return p.substring(p.lastIndexOf('/') + 1);
        }

        private void write(ChannelHandlerContext ctx, Response r, boolean keepAlive) {
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
            HttpUtil.setContentLength(resp, r.body().length);
            HttpUtil.setKeepAlive(resp, keepAlive);
            var f = ctx.writeAndFlush(resp);
            if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    /** Convenience for route handlers: an error as a failed future. */
    public static CompletableFuture<Response> fail(ErrorCode code, String message) {
        return CompletableFuture.failedFuture(new LimeException(code, message));
    }
}
