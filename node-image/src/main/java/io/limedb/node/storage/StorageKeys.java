package io.limedb.node.storage;

import io.limedb.core.ring.KeyHash;
import io.limedb.core.ring.RingRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Storage key layout: the key's 8-byte big-endian ring position, then the key. RocksDB orders bytes
 * unsigned, so one ring range is one contiguous key range (two when it wraps past the top).
 */
public final class StorageKeys {
    public static final int PREFIX = 8;

    private StorageKeys() {}

    public static byte[] encode(byte[] userKey) {
        return encode(KeyHash.of(userKey), userKey);
    }

    public static byte[] encode(long position, byte[] userKey) {
        byte[] out = new byte[PREFIX + userKey.length];
        putPosition(out, position);
        System.arraycopy(userKey, 0, out, PREFIX, userKey.length);
        return out;
    }

    public static byte[] userKey(byte[] storageKey) {
        return Arrays.copyOfRange(storageKey, PREFIX, storageKey.length);
    }

    public static long position(byte[] storageKey) {
        long p = 0;
        for (int i = 0; i < PREFIX; i++) p = (p << 8) | (storageKey[i] & 0xff);
        return p;
    }

    /** Smallest storage key with a ring position >= the given one. */
    public static byte[] lowerBound(long position) {
        byte[] out = new byte[PREFIX];
        putPosition(out, position);
        return out;
    }

    /**
     * Storage-key intervals [from, to) covering a ring range; null means unbounded. A range that wraps
     * gives two intervals; the whole ring gives one unbounded interval.
     */
    public static List<byte[][]> intervals(RingRange range) {
        long start = range.startExclusive(), end = range.endInclusive();
        var out = new ArrayList<byte[][]>(2);
        if (start == end) {
            out.add(new byte[][] {null, null});
            return out;
        }
        byte[] from = start == -1L ? null : lowerBound(start + 1);    // -1L is the top position
        byte[] to = end == -1L ? null : lowerBound(end + 1);
        if (Long.compareUnsigned(start, end) < 0) {
            if (start != -1L) out.add(new byte[][] {from, to});
        } else {
            if (start != -1L) out.add(new byte[][] {from, null});
            out.add(new byte[][] {null, to});
        }
        return out;
    }

    private static void putPosition(byte[] out, long position) {
        for (int i = PREFIX - 1; i >= 0; i--) {
            out[i] = (byte) position;
            position >>>= 8;
        }
    }
}
