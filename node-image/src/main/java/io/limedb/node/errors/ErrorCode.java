package io.limedb.node.errors;

import io.grpc.Status;

/**
 * Closed set of request errors, each with its meaning in gRPC, HTTP and RESP, and what it tells the
 * client about its request: {@link Outcome#NOT_APPLIED} (nothing was written; safe to retry when
 * {@link #retryable()}) or {@link Outcome#UNKNOWN} (it may or may not have been applied). The
 * protocol codes alone tell the two apart: gRPC UNKNOWN, DEADLINE_EXCEEDED and INTERNAL, HTTP 500
 * and 504, and the RESP prefix UNKNOWN mean "outcome unknown"; every other error means "not applied".
 */
public enum ErrorCode {
    INVALID_ARGUMENT(Status.Code.INVALID_ARGUMENT, 400, "ERR", Outcome.NOT_APPLIED, false),
    KEY_TOO_LARGE(Status.Code.INVALID_ARGUMENT, 413, "ERR", Outcome.NOT_APPLIED, false),
    VALUE_TOO_LARGE(Status.Code.INVALID_ARGUMENT, 413, "ERR", Outcome.NOT_APPLIED, false),
    TOO_MANY_KEYS(Status.Code.INVALID_ARGUMENT, 413, "ERR", Outcome.NOT_APPLIED, false),
    /** A limit on memory in flight (bytes queued for a shard, a command's total size) was reached. */
    TOO_LARGE(Status.Code.RESOURCE_EXHAUSTED, 413, "ERR", Outcome.NOT_APPLIED, false),
    BUSY(Status.Code.RESOURCE_EXHAUSTED, 503, "TRYAGAIN", Outcome.NOT_APPLIED, true),
    /**
     * One operation of a batch that a shard did not run because the batch's reply had reached its byte
     * budget ({@code limits.reply.bytes}): not applied; send it again, in a later batch (the coordinator
     * does so at once, so its clients never see it).
     */
    REPLY_FULL(Status.Code.RESOURCE_EXHAUSTED, 503, "TRYAGAIN", Outcome.NOT_APPLIED, true),
    NOT_AN_INTEGER(Status.Code.FAILED_PRECONDITION, 409, "ERR", Outcome.NOT_APPLIED, false),
    OVERFLOW(Status.Code.FAILED_PRECONDITION, 409, "ERR", Outcome.NOT_APPLIED, false),
    /** The shard could not be reached: the request never left the coordinator. */
    SHARD_UNAVAILABLE(Status.Code.UNAVAILABLE, 503, "CLUSTERDOWN", Outcome.NOT_APPLIED, true),
    NO_TOPOLOGY(Status.Code.UNAVAILABLE, 503, "CLUSTERDOWN", Outcome.NOT_APPLIED, true),
    /** Refused up front by a member that is not the primary: nothing was written. */
    NOT_PRIMARY(Status.Code.UNAVAILABLE, 503, "TRYAGAIN", Outcome.NOT_APPLIED, true),
    /**
     * The key's ring range is not this shard's (it moved, or is moving, to another shard): nothing was
     * written. The coordinator refreshes its topology and sends it again, so clients see a delay.
     */
    MOVED(Status.Code.UNAVAILABLE, 503, "TRYAGAIN", Outcome.NOT_APPLIED, true),
    STALE_EPOCH(Status.Code.FAILED_PRECONDITION, 503, "TRYAGAIN", Outcome.NOT_APPLIED, true),
    /** Sync mode with too few replicas in sync: refused up front, nothing was written. */
    NOT_ENOUGH_REPLICAS(Status.Code.UNAVAILABLE, 503, "NOREPLICAS", Outcome.NOT_APPLIED, true),
    /** A primary without a valid read lease (or a new one waiting out its predecessor's): not served. */
    NO_LEASE(Status.Code.UNAVAILABLE, 503, "TRYAGAIN", Outcome.NOT_APPLIED, true),
    /** The request reached a shard but its answer did not come back in time. */
    DEADLINE_EXCEEDED(Status.Code.DEADLINE_EXCEEDED, 504, "UNKNOWN", Outcome.UNKNOWN, false),
    /** Written, but the primary could not prove it committed (step-down, ack timeout, lost connection). */
    OUTCOME_UNKNOWN(Status.Code.UNKNOWN, 504, "UNKNOWN", Outcome.UNKNOWN, false),
    STORAGE_ERROR(Status.Code.INTERNAL, 500, "UNKNOWN", Outcome.UNKNOWN, false),
    INTERNAL(Status.Code.INTERNAL, 500, "UNKNOWN", Outcome.UNKNOWN, false);

    /** What an error tells the client about its request. */
    public enum Outcome { NOT_APPLIED, UNKNOWN }

    private final Status.Code grpc;
    private final int http;
    private final String respPrefix;
    private final Outcome outcome;
    private final boolean retryable;

    ErrorCode(Status.Code grpc, int http, String respPrefix, Outcome outcome, boolean retryable) {
        this.grpc = grpc;
        this.http = http;
        this.respPrefix = respPrefix;
        this.outcome = outcome;
        this.retryable = retryable;
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

    public Outcome outcome() {
        return outcome;
    }

    /** Not applied, and a later attempt may succeed (after a topology refresh or a short wait). */
    public boolean retryable() {
        return retryable;
    }

    public static ErrorCode parse(String s) {
        try {
            return valueOf(s);
        } catch (IllegalArgumentException | NullPointerException e) {
            return INTERNAL;
        }
    }
}
