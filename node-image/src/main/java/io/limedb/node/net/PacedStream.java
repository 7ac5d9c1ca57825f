package io.limedb.node.net;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * A server stream sent no faster than the client takes it: {@link #send} waits until the transport
 * is ready (so at most about one message is buffered) and stops once the client has cancelled. Runs
 * on a thread that may block, never on an event loop. Create it inside the service method, before
 * that returns: gRPC takes the ready and cancel handlers only then.
 */
public final class PacedStream<T> {
    /** The client cancelled (or its deadline passed): nothing more can be sent. */
    public static final class CancelledException extends RuntimeException {
        CancelledException(String message) {
            super(message, null, false, false);
        }
    }

    private final ServerCallStreamObserver<T> out;
    private final Object signal = new Object();

    public PacedStream(StreamObserver<T> out) {
        this.out = (ServerCallStreamObserver<T>) out;
        this.out.setOnReadyHandler(this::wake);
        this.out.setOnCancelHandler(this::wake);
    }

    private void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** Sends once the client can take more; throws {@link CancelledException} once it has gone. */
    public void send(T message) {
        synchronized (signal) {
            while (!out.isReady() && !out.isCancelled()) {
                try {
                    signal.wait(1000); // woken by the handlers; the timeout only guards against a lost wake-up
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CancelledException("interrupted while waiting for the client to read");
                }
            }
        }
        if (out.isCancelled()) throw new CancelledException("the client cancelled the stream");
        out.onNext(message);
    }

    public boolean cancelled() {
        return out.isCancelled();
    }

    public void complete() {
        if (!out.isCancelled()) out.onCompleted();
    }

    /** Ends the stream with an error, unless the client is already gone. */
    public void fail(Throwable t) {
        if (!out.isCancelled()) out.onError(t);
    }
}
