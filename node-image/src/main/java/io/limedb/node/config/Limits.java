package io.limedb.node.config;

import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;

/**
 * Request and reply size limits, enforced the same way in every protocol. {@code replyBytes} is the
 * configured reply budget (0 = the largest that always fits, see {@link #replyBudgetBytes()}).
 */
public record Limits(int maxKeyBytes, int maxValueBytes, int maxMultiKeys, long replyBytes) {

    public Limits(int maxKeyBytes, int maxValueBytes, int maxMultiKeys) {
        this(maxKeyBytes, maxValueBytes, maxMultiKeys, 0);
    }

    public static Limits defaults() {
        return new Limits(64 * 1024, 16 * 1024 * 1024, 100_000);
    }

    public static Limits from(NodeConfig c) {
        return new Limits(c.get(NodeConfig.MAX_KEY_BYTES), c.get(NodeConfig.MAX_VALUE_BYTES),
                c.get(NodeConfig.MAX_MULTI_KEYS), c.get(NodeConfig.MAX_REPLY_BYTES));
    }

    /**
     * Bytes a shard counts in a batch's reply for each answer that is not a value read by a GET: a
     * write's answer, an error, a REPLY_FULL refusal (framing included).
     */
    public static final int SMALL_ANSWER_BYTES = 256;

    /** Room a reply leaves for its framing (ids, tags, lengths) beyond the answers counted. */
    private static final int REPLY_FRAMING_BYTES = 64 << 10;

    /**
     * Bytes of answers a shard puts in one reply (a batch, a multi-get). A batch stops reading once its
     * answers reach it and may pass it by one value, so it is at most {@link #maxMessageBytes()} (what
     * the coordinator accepts) minus one largest operation and some framing: 48 MiB - 129 KiB with
     * the default limits. A smaller {@code limits.reply.bytes} is taken as it is, a larger one is capped.
     */
    public long replyBudgetBytes() {
        long fits = maxMessageBytes() - maxOpBytes() - REPLY_FRAMING_BYTES;
        return replyBytes > 0 ? Math.min(replyBytes, fits) : fits;
    }

    /** Bytes a batch of log records or snapshot entries aims at; one larger entry or record goes alone. */
    public static final int REPLICATION_CHUNK_BYTES = 4 << 20;

    /** Largest gRPC message a node accepts: a batch may carry a largest value and key twice over. */
    public int maxMessageBytes() {
        return clampToInt(Math.max(64 << 20, 2L * maxValueBytes + 2L * maxKeyBytes));
    }

    /** Bytes of one operation (or stored entry) with the largest key and value, framing included. */
    public long maxOpBytes() {
        return (long) maxValueBytes + maxKeyBytes + 1024;
    }

    /**
     * Largest log record one write can make. The largest is an atomic batch (a whole request of
     * {@link #maxMessageBytes()} with up to {@link #maxMultiKeys()} keys), each key growing by its
     * ring prefix, value header and framing; other writes make records of one entry, or of plain puts
     * grouped up to {@link #REPLICATION_CHUNK_BYTES} plus one entry.
     */
    public long maxRecordBytes() {
        return Math.max(maxMessageBytes() + 64L * maxMultiKeys, REPLICATION_CHUNK_BYTES + maxOpBytes()) + 1024;
    }

    /**
     * Largest message a replica accepts from its primary: log records or snapshot entries gathered up
     * to {@link #REPLICATION_CHUNK_BYTES}, then one more that may be the largest record (at least 256 MiB).
     */
    public int maxReplicationMessageBytes() {
        return clampToInt(Math.max(256L << 20, REPLICATION_CHUNK_BYTES + maxRecordBytes() + (64 << 10)));
    }

    private static int clampToInt(long bytes) {
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    public void checkKey(int length) {
        if (length == 0) throw new LimeException(ErrorCode.INVALID_ARGUMENT, "empty key");
        if (length > maxKeyBytes) {
            throw new LimeException(ErrorCode.KEY_TOO_LARGE,
                    "key too large: " + length + " bytes, limit " + maxKeyBytes);
        }
    }

    public void checkValue(int length) {
        if (length > maxValueBytes) {
            throw new LimeException(ErrorCode.VALUE_TOO_LARGE,
                    "value too large: " + length + " bytes, limit " + maxValueBytes);
        }
    }

    public void checkCount(int keys) {
        if (keys > maxMultiKeys) {
            throw new LimeException(ErrorCode.TOO_MANY_KEYS,
                    "too many keys in one request: " + keys + ", limit " + maxMultiKeys);
        }
    }
}
