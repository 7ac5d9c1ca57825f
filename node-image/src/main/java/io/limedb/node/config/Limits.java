package io.limedb.node.config;

import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;

/** Request size limits, enforced the same way in every protocol. */
public record Limits(int maxKeyBytes, int maxValueBytes, int maxMultiKeys) {

    public static Limits defaults() {
        return new Limits(64 * 1024, 16 * 1024 * 1024, 100_000);
    }

    public static Limits from(NodeConfig c) {
        return new Limits(c.get(NodeConfig.MAX_KEY_BYTES), c.get(NodeConfig.MAX_VALUE_BYTES),
                c.get(NodeConfig.MAX_MULTI_KEYS));
    }

    /** Largest gRPC message a node accepts: a batch may carry a largest value and key twice over. */
    public int maxMessageBytes() {
        return Math.max(64 << 20, maxValueBytes * 2 + maxKeyBytes * 2);
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
