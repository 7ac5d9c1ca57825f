package io.limedb.testkit.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of one target, whose faults a test switches at runtime: pass,
 * refuse, blackhole (both ways or one way) and delay. One proxy is one link between two processes.
 *
 * <p>Bytes a blackhole swallows are gone, which TCP never does to a live connection; so when a mode
 * that forwards again replaces one that dropped bytes of a connection, that connection is reset (as
 * one that timed out during a real partition would be) rather than resumed with a hole in its stream.
 * Memory is bounded: at most {@value #QUEUE_CHUNKS} chunks of {@value #CHUNK_BYTES} bytes wait per
 * direction per connection; a reader whose queue is full waits, so a slow receiver slows the sender.
 */
public final class FaultProxy implements AutoCloseable {

    /** What the proxy does to the traffic of its link. */
    public enum Mode {
        /** Forward everything. */
        PASS,
        /** Reset every open connection; accept new ones and reset them at once. */
        REFUSE,
        /** Accept connections, never answer; open connections stop forwarding and swallow what they read. */
        BLACKHOLE,
        /** Swallow what the client sends; the server's bytes still reach the client. */
        DROP_CLIENT_TO_SERVER,
        /** Swallow what the server sends; the client's bytes still reach the server. */
        DROP_SERVER_TO_CLIENT,
        /** Forward everything, each chunk {@link #delay()} later than it was read, in order. */
        DELAY
    }

    /** A direction of traffic on a connection through the proxy. */
    public enum Direction {
        CLIENT_TO_SERVER, SERVER_TO_CLIENT;

        Direction reverse() {
            return this == CLIENT_TO_SERVER ? SERVER_TO_CLIENT : CLIENT_TO_SERVER;
        }
    }

    static final int CHUNK_BYTES = 16 * 1024;
    static final int QUEUE_CHUNKS = 64;
    private static final int CONNECT_TIMEOUT_MS = 2_000;
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private record State(Mode mode, long delayNanos) {
        boolean drops(Direction d) {
            return switch (mode) {
                case BLACKHOLE -> true;
                case DROP_CLIENT_TO_SERVER -> d == Direction.CLIENT_TO_SERVER;
                case DROP_SERVER_TO_CLIENT -> d == Direction.SERVER_TO_CLIENT;
                default -> false;
            };
        }
    }

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong accepted = new AtomicLong();
    private final Map<Direction, AtomicLong> forwarded = new EnumMap<>(Direction.class);
    private final Map<Direction, AtomicLong> dropped = new EnumMap<>(Direction.class);
    private volatile State state = new State(Mode.PASS, 0);

    private FaultProxy(InetSocketAddress target) throws IOException {
        this.target = Objects.requireNonNull(target, "target");
        for (Direction d : Direction.values()) {
            forwarded.put(d, new AtomicLong());
            dropped.put(d, new AtomicLong());
        }
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        acceptor = Thread.ofVirtual().name("fault-proxy-accept-" + server.getLocalPort()).start(this::acceptLoop);
    }

    /** A proxy listening on an ephemeral port of 127.0.0.1, forwarding to {@code host:port}, in {@link Mode#PASS}. */
    public static FaultProxy start(String host, int port) throws IOException {
        return new FaultProxy(new InetSocketAddress(host, port));
    }

    /** The same, for a target written {@code host:port}. */
    public static FaultProxy start(String hostPort) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("expected host:port, got " + hostPort);
        return start(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:port}: what a client dials instead of the target. */
    public String address() {
        return server.getInetAddress().getHostAddress() + ":" + port();
    }

    public InetSocketAddress target() {
        return target;
    }

    public Mode mode() {
        return state.mode();
    }

    /** The delay added per chunk in {@link Mode#DELAY}; zero in every other mode. */
    public Duration delay() {
        return state.mode() == Mode.DELAY ? Duration.ofNanos(state.delayNanos()) : Duration.ZERO;
    }

    /** Back to forwarding everything; connections that lost bytes are reset. */
    public void heal() {
        set(new State(Mode.PASS, 0));
    }

    /** Same as {@link #heal()}. */
    public void pass() {
        heal();
    }

    public void refuse() {
        set(new State(Mode.REFUSE, 0));
    }

    /** Both directions swallowed, new connections accepted and never answered. */
    public void blackhole() {
        set(new State(Mode.BLACKHOLE, 0));
    }

    /** Only traffic flowing in {@code dropped} is swallowed; the other direction flows. */
    public void blackhole(Direction dropped) {
        set(new State(dropped == Direction.CLIENT_TO_SERVER ? Mode.DROP_CLIENT_TO_SERVER : Mode.DROP_SERVER_TO_CLIENT, 0));
    }

    /** Every chunk, in both directions, is forwarded {@code delay} after it was read, in order. */
    public void delay(Duration delay) {
        if (delay.isNegative()) throw new IllegalArgumentException("negative delay " + delay);
        set(new State(Mode.DELAY, delay.toNanos()));
    }

    /** Sets a mode that takes no parameter ({@link Mode#DELAY} needs {@link #delay(Duration)}). */
    public void mode(Mode mode) {
        switch (mode) {
            case PASS -> heal();
            case REFUSE -> refuse();
            case BLACKHOLE -> blackhole();
            case DROP_CLIENT_TO_SERVER -> blackhole(Direction.CLIENT_TO_SERVER);
            case DROP_SERVER_TO_CLIENT -> blackhole(Direction.SERVER_TO_CLIENT);
            case DELAY -> throw new IllegalArgumentException("DELAY needs a duration: use delay(Duration)");
        }
    }

    /** Connections accepted since start, refused ones included. */
    public long accepted() {
        return accepted.get();
    }

    public int openConnections() {
        return connections.size();
    }

    public long forwardedBytes(Direction d) {
        return forwarded.get(d).get();
    }

    public long droppedBytes(Direction d) {
        return dropped.get(d).get();
    }

    private synchronized void set(State next) {
        if (closed.get()) throw new IllegalStateException("proxy " + this + " is closed");
        state = next;
        for (Connection c : connections) {
            // A connection that lost bytes in a direction the new mode forwards has a hole in its stream.
            boolean broken = next.mode() == Mode.REFUSE || c.orphan && next.mode() != Mode.BLACKHOLE;
            for (Direction d : Direction.values()) broken |= c.lost(d) && !next.drops(d);
            if (broken) c.close(true);
        }
    }

    private void acceptLoop() {
        while (!closed.get()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed.get()) return;
                sleepQuietly(10); // e.g. out of file descriptors: do not spin
                continue;
            }
            accepted.incrementAndGet();
            if (state.mode() == Mode.REFUSE) {
                reset(client);
                continue;
            }
            var c = new Connection(client);
            connections.add(c);
            if (closed.get()) c.close(true); // raced with close(): it may have missed this one
            else Thread.ofVirtual().name("fault-proxy-open-" + port()).start(c::open);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Connection c : connections) c.close(true);
        acceptor.interrupt();
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        var s = state;
        return "FaultProxy[" + (server.isBound() ? address() : "?") + " -> " + target.getHostString() + ":" + target.getPort()
                + ", " + s.mode() + (s.mode() == Mode.DELAY ? " " + TimeUnit.NANOSECONDS.toMillis(s.delayNanos()) + " ms" : "") + "]";
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST, as a refused or timed-out connection
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Bytes read from one side, waiting to be written to the other; {@code bytes == null} is end of stream. */
    private record Chunk(byte[] bytes, long readNanos) {}

    /** One client connection and, unless it was accepted by a blackhole, its connection to the target. */
    private final class Connection {
        private final Socket client;
        private volatile Socket upstream;
        private volatile boolean orphan;
        private final AtomicBoolean done = new AtomicBoolean();
        private final Map<Direction, AtomicLong> lostBytes = new EnumMap<>(Direction.class);
        private final Map<Direction, AtomicBoolean> lostEof = new EnumMap<>(Direction.class);
        private final Map<Direction, AtomicBoolean> finished = new EnumMap<>(Direction.class);
        private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

        Connection(Socket client) {
            this.client = client;
            for (Direction d : Direction.values()) {
                lostBytes.put(d, new AtomicLong());
                lostEof.put(d, new AtomicBoolean());
                finished.put(d, new AtomicBoolean());
            }
        }

        boolean lost(Direction d) {
            return lostBytes.get(d).get() > 0 || lostEof.get(d).get();
        }

        void open() {
            try {
                client.setTcpNoDelay(true);
                if (state.mode() == Mode.REFUSE) {
                    close(true);
                    return;
                }
                if (state.mode() == Mode.BLACKHOLE) {
                    // Never answered: nothing reaches the target, what the client sends is swallowed.
                    orphan = true;
                    var in = client.getInputStream();
                    start("swallow", () -> swallow(in, Direction.CLIENT_TO_SERVER));
                    return;
                }
                var up = new Socket();
                up.setTcpNoDelay(true);
                up.connect(target, CONNECT_TIMEOUT_MS);
                upstream = up;
                if (done.get()) {
                    reset(up);
                    return;
                }
                pump(Direction.CLIENT_TO_SERVER, client.getInputStream(), up.getOutputStream());
                pump(Direction.SERVER_TO_CLIENT, up.getInputStream(), client.getOutputStream());
            } catch (IOException e) {
                close(true); // the target is down or the proxy is closing: the client sees a reset
            }
        }

        private void pump(Direction d, InputStream in, OutputStream out) {
            BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
            start("read-" + d, () -> read(d, in, queue));
            start("write-" + d, () -> write(d, queue, out));
        }

        private void start(String what, Runnable r) {
            var t = Thread.ofVirtual().name("fault-proxy-" + port() + "-" + what).unstarted(r);
            threads.add(t);
            t.start();
            if (done.get()) t.interrupt(); // close() may have missed it
        }

        private void swallow(InputStream in, Direction d) {
            var buf = new byte[CHUNK_BYTES];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) drop(d, n);
                lostEof.get(d).set(true);
            } catch (IOException e) {
                close(true);
            }
        }

        private void read(Direction d, InputStream in, BlockingQueue<Chunk> queue) {
            var buf = new byte[CHUNK_BYTES];
            try {
                while (!done.get()) {
                    int n = in.read(buf);
                    var chunk = new Chunk(n < 0 ? null : Arrays.copyOf(buf, n), System.nanoTime());
                    if (!enqueue(d, queue, chunk) || n < 0) return;
                }
            } catch (IOException e) {
                close(true); // a reset on one side resets the other
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Queues a chunk; a chunk that meets a blackhole is swallowed. False when the connection is done. */
        private boolean enqueue(Direction d, BlockingQueue<Chunk> queue, Chunk chunk) throws InterruptedException {
            while (!done.get()) {
                if (state.drops(d)) {
                    dropChunk(d, chunk);
                    return true;
                }
                if (queue.offer(chunk, 20, TimeUnit.MILLISECONDS)) return true;
            }
            return false;
        }

        private void write(Direction d, BlockingQueue<Chunk> queue, OutputStream out) {
            try {
                while (!done.get()) {
                    var chunk = queue.take();
                    if (!awaitDue(d, chunk)) {
                        dropChunk(d, chunk);
                        continue;
                    }
                    if (chunk.bytes() == null) {
                        finish(d);
                        return;
                    }
                    out.write(chunk.bytes());
                    forwarded.get(d).addAndGet(chunk.bytes().length);
                }
            } catch (IOException e) {
                close(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Waits until the chunk is due under the current delay; false if its direction is dropped meanwhile. */
        private boolean awaitDue(Direction d, Chunk chunk) throws InterruptedException {
            while (true) {
                var s = state;
                if (s.drops(d)) return false;
                long wait = chunk.readNanos() + (s.mode() == Mode.DELAY ? s.delayNanos() : 0) - System.nanoTime();
                if (wait <= 0) return true;
                TimeUnit.NANOSECONDS.sleep(Math.min(wait, SLICE_NANOS));
            }
        }

        private void dropChunk(Direction d, Chunk chunk) {
            if (chunk.bytes() == null) lostEof.get(d).set(true);
            else drop(d, chunk.bytes().length);
        }

        private void drop(Direction d, int n) {
            lostBytes.get(d).addAndGet(n);
            dropped.get(d).addAndGet(n);
        }

        /** End of stream in one direction: half-close the receiving side; both done, close. */
        private void finish(Direction d) throws IOException {
            var to = d == Direction.CLIENT_TO_SERVER ? upstream : client;
            to.shutdownOutput();
            finished.get(d).set(true);
            if (finished.get(d.reverse()).get()) close(false);
        }

        void close(boolean reset) {
            if (!done.compareAndSet(false, true)) return;
            connections.remove(this);
            for (Socket s : new Socket[] {client, upstream}) {
                if (s == null) continue;
                if (reset) {
                    reset(s);
                } else {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // already closed
                    }
                }
            }
            for (Thread t : threads) if (t != Thread.currentThread()) t.interrupt();
        }
    }
}
