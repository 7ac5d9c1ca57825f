package io.limedb.testkit.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Listening ports for test processes, taken below the kernel's ephemeral range.
 *
 * <p>{@code new ServerSocket(0)} hands out a port from the ephemeral range (32768-60999 on Linux), the
 * same range the kernel uses for the local side of outgoing connections. A test that picks such a port
 * and lets a child process bind it a second later races every client connection made meanwhile: one of
 * them can take the port ({@code bind: Address already in use}). Ports here come from 20000-32767 instead,
 * which outgoing connections never use; each JVM starts at its own offset (from its pid) and never hands
 * out the same port twice, and a port is handed out only if it can be bound right now.
 */
public final class Ports {
    private static final int FIRST = 20_000;
    private static final int COUNT = 12_768;
    private static final AtomicInteger NEXT =
            new AtomicInteger((int) (ProcessHandle.current().pid() * 997 % COUNT));

    private Ports() {}

    /** A port on 127.0.0.1 that is free now and that this JVM has not handed out before. */
    public static int next() {
        for (int tries = 0; tries < COUNT; tries++) {
            int port = FIRST + Math.floorMod(NEXT.getAndIncrement(), COUNT);
            if (bindable(port)) return port;
        }
        throw new IllegalStateException("no free port in " + FIRST + "-" + (FIRST + COUNT - 1));
    }

    private static boolean bindable(int port) {
        try (var socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
