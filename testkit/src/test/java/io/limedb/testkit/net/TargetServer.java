package io.limedb.testkit.net;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A target for proxy tests on 127.0.0.1: records what each connection sends and, if asked, echoes it. */
final class TargetServer implements AutoCloseable {
    private final ServerSocket server;
    private final boolean echo;
    private final List<Peer> peers = new CopyOnWriteArrayList<>();

    TargetServer(boolean echo) throws IOException {
        this.echo = echo;
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    int accepted() {
        return peers.size();
    }

    Peer peer(int i) {
        return peers.get(i);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                var p = new Peer(server.accept());
                peers.add(p);
                Thread.ofVirtual().start(p::serve);
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Peer p : peers) p.socket.close();
    }

    /** The server's side of one connection. */
    final class Peer {
        final Socket socket;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        Peer(Socket socket) {
            this.socket = socket;
        }

        synchronized byte[] received() {
            return received.toByteArray();
        }

        void send(byte[] b) throws IOException {
            synchronized (socket) {
                socket.getOutputStream().write(b);
            }
        }

        private void serve() {
            var buf = new byte[8192];
            try (socket) {
                int n;
                while ((n = socket.getInputStream().read(buf)) >= 0) {
                    synchronized (this) {
                        received.write(buf, 0, n);
                    }
                    if (echo) {
                        synchronized (socket) {
                            socket.getOutputStream().write(buf, 0, n);
                        }
                    }
                }
            } catch (IOException e) {
                // the connection went away
            }
        }
    }
}
