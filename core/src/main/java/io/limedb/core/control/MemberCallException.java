package io.limedb.core.control;

/** A call to a shard member failed: unreachable, too slow, or refused; the message says which. */
public final class MemberCallException extends RuntimeException {
    private final String memberId;

    public MemberCallException(String memberId, String message) {
        super(memberId + ": " + message);
        this.memberId = memberId;
    }

    public MemberCallException(String memberId, String message, Throwable cause) {
        super(memberId + ": " + message, cause);
        this.memberId = memberId;
    }

    public String memberId() {
        return memberId;
    }
}
