package io.limedb.node.net;

import io.grpc.stub.StreamObserver;
import io.limedb.node.errors.LimeException;
import java.util.function.Supplier;

/** A unary gRPC answer: the call's result, or its failure as LimeDB's status (with the limedb-error trailer). */
public final class Unary {
    private Unary() {}

    public static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
        T result;
        try {
            result = call.get();
        } catch (RuntimeException e) {
            out.onError(LimeException.of(e).toStatus());
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }
}
