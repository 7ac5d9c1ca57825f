package io.limedb.node.errors;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.limedb.api.v1.Error;

/** A request failure with a stable code and a message meant for the person who sent the request. */
public class LimeException extends RuntimeException {
    private final ErrorCode code;

    public LimeException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public Error toProto() {
        return Error.newBuilder().setCode(code.name()).setMessage(getMessage()).build();
    }

    public static LimeException fromProto(Error e) {
        return new LimeException(ErrorCode.parse(e.getCode()), e.getMessage());
    }

    /**
     * The gRPC trailer that carries the error code on every error LimeDB itself answers. A status without
     * it was made by the client library (a connection that broke or never opened): for a write, its
     * outcome is unknown whatever its code.
     */
    public static final io.grpc.Metadata.Key<String> ERROR_TRAILER =
            io.grpc.Metadata.Key.of("limedb-error", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    public StatusRuntimeException toStatus() {
        var trailers = new io.grpc.Metadata();
        trailers.put(ERROR_TRAILER, code.name());
        return Status.fromCode(code.grpc()).withDescription(code.name() + ": " + getMessage()).asRuntimeException(trailers);
    }

    /** Any throwable as a LimeException: our own pass through, anything else is INTERNAL. */
    public static LimeException of(Throwable t) {
        if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) t = t.getCause();
        if (t instanceof LimeException le) return le;
        return new LimeException(ErrorCode.INTERNAL, String.valueOf(t));
    }
}
