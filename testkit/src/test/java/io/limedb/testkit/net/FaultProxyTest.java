package io.limedb.testkit.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.limedb.testkit.net.FaultProxy.Direction;
import io.limedb.testkit.net.FaultProxy.Mode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every mode of {@link FaultProxy} on real sockets on 127.0.0.1, and healing back from it. */
class FaultProxyTest {
    private TargetServer target;
    private FaultProxy proxy;

    @AfterEach
    void down() throws IOException {
        if (proxy != null) proxy.close();
        if (target != null) target.close();
    }

    private void up(boolean echo) throws IOException {
        target = new TargetServer(echo);
        proxy = FaultProxy.start("127.0.0.1", target.port());
    }

    private Socket connect() throws IOException {
        var s = new Socket("127.0.0.1", proxy.port());
        s.setTcpNoDelay(true);
        return s;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] readExactly(Socket s, int n, int timeoutMs) throws IOException {
        s.setSoTimeout(timeoutMs);
        var out = new byte[n];
        int off = 0;
        while (off < n) {
            int r = s.getInputStream().read(out, off, n - off);
            if (r < 0) throw new IOException("end of stream after " + off + " of " + n + " bytes");
            off += r;
        }
        return out;
    }

    private static void assertEcho(Socket s, String text) throws IOException {
        s.getOutputStream().write(bytes(text));
        assertThat(new String(readExactly(s, text.length(), 3000), StandardCharsets.US_ASCII)).isEqualTo(text);
    }

    /** Nothing arrives for a while, and the socket is still open. */
    private static void assertSilent(Socket s, int ms) throws IOException {
        s.setSoTimeout(ms);
        assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
    }

    /** The connection ends (end of stream or reset) within a few seconds. */
    private static void assertClosedSoon(Socket s) throws IOException {
        s.setSoTimeout(3000);
        try {
            int r;
            do {
                r = s.getInputStream().read();
            } while (r >= 0); // bytes already in flight may still arrive first
        } catch (SocketTimeoutException e) {
            fail("connection still open after 3 s");
        } catch (SocketException e) {
            // reset: closed as well
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("condition not met within 5 s");
            Thread.sleep(10);
        }
    }

    @Test
    void passForwardsBothWaysInOrder() throws Exception {
        up(true);
        try (var s = connect()) {
            var data = new byte[1 << 20];
            new Random(7).nextBytes(data);
            var writer = Thread.ofVirtual().start(() -> {
                try {
                    for (int off = 0; off < data.length; off += 1000) {
                        s.getOutputStream().write(data, off, Math.min(1000, data.length - off));
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(readExactly(s, data.length, 10_000)).isEqualTo(data);
            writer.join();
        }
        assertThat(proxy.mode()).isEqualTo(Mode.PASS);
        assertThat(proxy.forwardedBytes(Direction.CLIENT_TO_SERVER)).isEqualTo(1 << 20);
        assertThat(proxy.forwardedBytes(Direction.SERVER_TO_CLIENT)).isEqualTo(1 << 20);
        assertThat(proxy.droppedBytes(Direction.CLIENT_TO_SERVER)).isZero();
    }

    @Test
    void endOfStreamIsForwardedAndTheConnectionIsClosed() throws Exception {
        up(true);
        try (var s = connect()) {
            assertEcho(s, "hello");
            s.shutdownOutput(); // the target sees end of stream and closes; the client sees that too
            assertClosedSoon(s);
        }
        await(() -> proxy.openConnections() == 0);
    }

    @Test
    void refuseResetsOpenConnectionsAndNewOnesUntilHealed() throws Exception {
        up(true);
        try (var s = connect()) {
            assertEcho(s, "before");
            proxy.refuse();
            assertThat(proxy.mode()).isEqualTo(Mode.REFUSE);
            assertClosedSoon(s);
        }
        int acceptedByTarget = target.accepted();
        try (var s = connect()) {
            try {
                s.getOutputStream().write(bytes("refused?"));
            } catch (IOException e) {
                // reset already: refused as well
            }
            assertClosedSoon(s);
        } catch (ConnectException e) {
            // refused at connect: also fine
        }
        assertThat(target.accepted()).isEqualTo(acceptedByTarget);
        proxy.heal();
        try (var s = connect()) {
            assertEcho(s, "after");
        }
    }

    @Test
    void blackholeSwallowsBothWaysKeepsSocketsOpenAndHealResetsThem() throws Exception {
        up(true);
        var old = connect();
        assertEcho(old, "before");
        var peer = target.peer(0);
        proxy.blackhole();
        assertThat(proxy.mode()).isEqualTo(Mode.BLACKHOLE);
        old.getOutputStream().write(bytes("into the void"));
        peer.send(bytes("from the server"));
        assertSilent(old, 300);
        assertThat(peer.received()).isEqualTo(bytes("before"));
        old.getOutputStream().write(bytes("still writable")); // the socket is open
        await(() -> proxy.droppedBytes(Direction.CLIENT_TO_SERVER) >= "into the void".length() + "still writable".length());
        assertThat(proxy.droppedBytes(Direction.SERVER_TO_CLIENT)).isPositive();

        int acceptedByTarget = target.accepted();
        var fresh = connect(); // accepted, never answered
        fresh.getOutputStream().write(bytes("anyone?"));
        assertSilent(fresh, 300);
        assertThat(target.accepted()).isEqualTo(acceptedByTarget);
        assertThat(proxy.openConnections()).isEqualTo(2);

        proxy.heal();
        // Both lost bytes: resumed they would carry a hole, so they are reset; new ones work.
        assertClosedSoon(old);
        assertClosedSoon(fresh);
        old.close();
        fresh.close();
        try (var s = connect()) {
            assertEcho(s, "after");
        }
    }

    @Test
    void delayAddsLatencyPerChunkAndKeepsOrder() throws Exception {
        up(true);
        try (var s = connect()) {
            assertEcho(s, "warm");
            proxy.delay(Duration.ofMillis(200));
            assertThat(proxy.delay()).isEqualTo(Duration.ofMillis(200));
            long t0 = System.nanoTime();
            assertEcho(s, "x");
            long rtt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(rtt).as("round trip through 200 ms each way").isBetween(390L, 3000L);

            // Many small chunks sent at once arrive in order, about one delay later, not one per chunk.
            var sb = new StringBuilder();
            t0 = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                String part = String.format("%03d,", i);
                sb.append(part);
                s.getOutputStream().write(bytes(part));
            }
            var back = new String(readExactly(s, sb.length(), 5000), StandardCharsets.US_ASCII);
            assertThat(back).isEqualTo(sb.toString());
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(390L, 3000L);

            proxy.heal(); // nothing was lost: the connection carries on
            t0 = System.nanoTime();
            assertEcho(s, "fast");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(150);
        }
    }

    @Test
    void dropClientToServerLetsTheServerTalk() throws Exception {
        up(false);
        try (var s = connect()) {
            s.getOutputStream().write(bytes("hi"));
            await(() -> target.accepted() == 1 && target.peer(0).received().length == 2);
            var peer = target.peer(0);
            proxy.blackhole(Direction.CLIENT_TO_SERVER);
            assertThat(proxy.mode()).isEqualTo(Mode.DROP_CLIENT_TO_SERVER);
            s.getOutputStream().write(bytes("ack 1"));
            peer.send(bytes("record 1"));
            assertThat(new String(readExactly(s, 8, 3000), StandardCharsets.US_ASCII)).isEqualTo("record 1");
            await(() -> proxy.droppedBytes(Direction.CLIENT_TO_SERVER) == 5);
            assertThat(peer.received()).isEqualTo(bytes("hi"));

            proxy.heal();
            assertClosedSoon(s); // its client-to-server stream has a hole
        }
        try (var s = connect()) {
            s.getOutputStream().write(bytes("again"));
            await(() -> target.accepted() == 2 && Arrays.equals(target.peer(1).received(), bytes("again")));
        }
    }

    @Test
    void dropServerToClientLetsTheClientTalk() throws Exception {
        up(false);
        try (var s = connect()) {
            s.getOutputStream().write(bytes("hi"));
            await(() -> target.accepted() == 1 && target.peer(0).received().length == 2);
            var peer = target.peer(0);
            proxy.blackhole(Direction.SERVER_TO_CLIENT);
            assertThat(proxy.mode()).isEqualTo(Mode.DROP_SERVER_TO_CLIENT);
            peer.send(bytes("record 1"));
            s.getOutputStream().write(bytes("ack 1"));
            await(() -> Arrays.equals(peer.received(), bytes("hiack 1")));
            assertSilent(s, 300);
            await(() -> proxy.droppedBytes(Direction.SERVER_TO_CLIENT) == 8);

            // A connection opened during a one-way fault is forwarded one way as well.
            try (var fresh = connect()) {
                fresh.getOutputStream().write(bytes("new"));
                await(() -> target.accepted() == 2 && Arrays.equals(target.peer(1).received(), bytes("new")));
                target.peer(1).send(bytes("lost"));
                assertSilent(fresh, 300);
            }
            proxy.heal();
            assertClosedSoon(s);
        }
    }

    @Test
    void switchingBetweenFaultsWithoutHealing() throws Exception {
        up(true);
        try (var s = connect()) {
            proxy.delay(Duration.ofMillis(50));
            assertEcho(s, "slow");
            proxy.blackhole(Direction.SERVER_TO_CLIENT);
            s.getOutputStream().write(bytes("gone"));
            assertSilent(s, 300);
            proxy.mode(Mode.BLACKHOLE); // still dropping server-to-client: the connection stays
            assertSilent(s, 100);
            proxy.refuse();
            assertClosedSoon(s);
        }
        proxy.heal();
        try (var s = connect()) {
            assertEcho(s, "ok");
        }
        assertThatThrownBy(() -> proxy.mode(Mode.DELAY)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTargetThatIsDownResetsTheClient() throws Exception {
        // The target port is held by a socket that is bound and never listens: a connection to it is
        // refused, and no other socket can take the port meanwhile (a freed port could be reused, even
        // by the proxy's own outgoing connection, which then connects to itself and stays open).
        try (var held = new Socket()) {
            held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            proxy = FaultProxy.start("127.0.0.1", held.getLocalPort());
            try (var s = connect()) {
                assertClosedSoon(s);
            }
            await(() -> proxy.openConnections() == 0);
        }
    }

    @Test
    void closeStopsListeningAndClosesEveryConnection() throws Exception {
        up(true);
        var s = connect();
        assertEcho(s, "x");
        proxy.blackhole();
        var orphan = connect();
        await(() -> proxy.openConnections() == 2);
        int port = proxy.port();
        proxy.close();
        assertClosedSoon(s);
        assertClosedSoon(orphan);
        s.close();
        orphan.close();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        assertThat(proxy.openConnections()).isZero();
        assertThatThrownBy(proxy::heal).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void addressAndTarget() throws Exception {
        up(true);
        assertThat(proxy.address()).isEqualTo("127.0.0.1:" + proxy.port());
        assertThat(proxy.target().getPort()).isEqualTo(target.port());
        try (var other = FaultProxy.start("127.0.0.1:" + target.port()); var s = new Socket("127.0.0.1", other.port())) {
            s.setTcpNoDelay(true);
            assertEcho(s, "parsed");
            assertThat(other.toString()).contains("PASS");
        }
    }
}
