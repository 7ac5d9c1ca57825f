package io.limedb.node.storage;

/**
 * Value layout on disk: one flags byte, then (if it expires) the expiry in epoch milliseconds, then
 * the user's bytes. An expired value reads as absent.
 */
public record StoredValue(byte[] value, long expireAtMs) {
    private static final byte PLAIN = 0;
    private static final byte EXPIRES = 1;

    public boolean expiredAt(long nowMs) {
        return expireAtMs > 0 && nowMs >= expireAtMs;
    }

    public byte[] encode() {
        if (expireAtMs <= 0) {
            byte[] out = new byte[1 + value.length];
            out[0] = PLAIN;
            System.arraycopy(value, 0, out, 1, value.length);
            return out;
        }
        byte[] out = new byte[9 + value.length];
        out[0] = EXPIRES;
        long e = expireAtMs;
        for (int i = 8; i >= 1; i--) {
            out[i] = (byte) e;
            e >>>= 8;
        }
        System.arraycopy(value, 0, out, 9, value.length);
        return out;
    }

    public static StoredValue decode(byte[] raw) {
        if (raw.length == 0) throw new IllegalStateException("corrupt value: empty");
        return switch (raw[0]) {
            case PLAIN -> new StoredValue(java.util.Arrays.copyOfRange(raw, 1, raw.length), 0);
            case EXPIRES -> {
                if (raw.length < 9) throw new IllegalStateException("corrupt value: truncated expiry");
                long e = 0;
                for (int i = 1; i <= 8; i++) e = (e << 8) | (raw[i] & 0xff);
                yield new StoredValue(java.util.Arrays.copyOfRange(raw, 9, raw.length), e);
            }
            default -> throw new IllegalStateException("corrupt value: unknown format " + raw[0]);
        };
    }
}
