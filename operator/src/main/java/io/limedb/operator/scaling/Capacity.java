package io.limedb.operator.scaling;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.Optional;

/**
 * Whether a cluster's data fits in fewer shards; pure. Every member of a shard holds all of the shard's
 * data on its own volume of {@code storage.size}, so {@code n} shards hold at most {@code n x size}; a
 * scale-in is refused when the live data (summed over the primaries) would fill more than
 * {@link #MAX_FILL} of that, leaving no room for writes, compaction and the moves themselves.
 */
public final class Capacity {
    /** The most of the remaining shards' volumes the data may fill after a scale-in. */
    public static final double MAX_FILL = 0.8;

    private Capacity() {}

    /**
     * The refusal of a scale-in from {@code from} to {@code to} shards, or empty when the data fits.
     *
     * @param liveDataBytes the shards' live data, summed over their primaries
     * @param storageSize   spec.storage.size, e.g. "1Gi"
     */
    public static Optional<ShardScaling.Refusal> checkScaleIn(int from, int to, long liveDataBytes, String storageSize) {
        long perShard = bytes(storageSize);
        double capacity = (double) to * perShard;
        if (liveDataBytes <= MAX_FILL * capacity) return Optional.empty();
        long fits = (long) Math.ceil(liveDataBytes / (MAX_FILL * perShard));
        return Optional.of(new ShardScaling.Refusal(to, "spec.shards " + from + " -> " + to + " refused: the data ("
                + human(liveDataBytes) + " live, summed over the primaries) would fill " + percent(liveDataBytes, capacity)
                + " of " + to + " shard(s) of storage.size " + storageSize + ", above the " + percent(MAX_FILL, 1)
                + " limit; " + advice(from, fits)));
    }

    private static String advice(int from, long fits) {
        if (fits < from) return "set spec.shards to at least " + fits + " (or back to " + from + "), or delete data first";
        if (fits == from) return "set spec.shards back to " + from + ", or delete data first";
        return "set spec.shards back to " + from + "; the data is above the limit at " + from + " shards already: "
                + "add shards (" + fits + " or more) or raise storage.size";
    }

    /** A quantity such as "1Gi" or "500M" in bytes. */
    public static long bytes(String quantity) {
        BigDecimal b = Quantity.getAmountInBytes(new Quantity(quantity));
        return b.longValue();
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static String percent(double part, double whole) {
        return Math.round(100 * part / whole) + "%";
    }
}
