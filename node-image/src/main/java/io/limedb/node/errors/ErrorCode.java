package io.limedb.node.errors;

import io.grpc.Status;

/** Closed set of request errors, each with its meaning in gRPC, HTTP and RESP. */
public enum ErrorCode {
    INVALID_ARGUMENT(Status.Code.INVALID_ARGUMENT, 400, "ERR"),
    KEY_TOO_LARGE(Status.Code.INVALID_ARGUMENT, 413, "ERR"),
    VALUE_TOO_LARGE(Status.Code.INVALID_ARGUMENT, 413, "ERR"),
    TOO_MANY_KEYS(Status.Code.INVALID_ARGUMENT, 413, "ERR"),
    NOT_AN_INTEGER(Status.Code.FAILED_PRECONDITION, 409, "ERR"),
    OVERFLOW(Status.Code.FAILED_PRECONDITION, 409, "ERR"),
    SHARD_UNAVAILABLE(Status.Code.UNAVAILABLE, 503, "CLUSTERDOWN"),
    DEADLINE_EXCEEDED(Status.Code.DEADLINE_EXCEEDED, 504, "TRYAGAIN"),
    NO_TOPOLOGY(Status.Code.UNAVAILABLE, 503, "CLUSTERDOWN"),
    NOT_PRIMARY(Status.Code.UNAVAILABLE, 503, "TRYAGAIN"),
    STALE_EPOCH(Status.Code.FAILED_PRECONDITION, 503, "TRYAGAIN"),
    NOT_ENOUGH_REPLICAS(Status.Code.UNAVAILABLE, 503, "NOREPLICAS"),
    STORAGE_ERROR(Status.Code.INTERNAL, 500, "ERR"),
    INTERNAL(Status.Code.INTERNAL, 500, "ERR");

    private final Status.Code grpc;
    private final int http;
    private final String respPrefix;

    ErrorCode(Status.Code grpc, int http, String respPrefix) {
        this.grpc = grpc;
        this.http = http;
        this.respPrefix = respPrefix;
    }

    public Status.Code grpc() {
        return grpc;
    }

    public int http() {
        return http;
    }

    public String respPrefix() {
        return respPrefix;
    }

    public static ErrorCode parse(String s) {
        try {
            return valueOf(s);
        } catch (IllegalArgumentException | NullPointerException e) {
            return INTERNAL;
        }
    }
}
