package io.limedb.node.config;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a shard divides its memory between RocksDB's block cache, the value cache and the data's
 * memtables: the defaults of {@code rocksdb.block.cache.mb}, {@code value.cache.mb} and
 * {@code rocksdb.write.buffer.mb} (a key that is set wins).
 *
 * <p>In a container with a memory limit (a pod's {@code resources.limits.memory}) they are sized
 * from that limit, so that everything the process holds stays inside it under load: the heap (the
 * JVM's own sizing, a quarter of the limit for a shard pod), the JVM's native memory (code,
 * metaspace, threads, Netty's buffers: {@link #JVM_NATIVE_MB}), and of what is left, 40% block
 * cache, 20% value cache, 20% data memtables (at most 64 MiB; the replication log's memtables add
 * up to half of that), the rest for RocksDB's table readers, compaction buffers and the allocator's
 * slack. Measured with {@code make bench-memory} (bench/README.md). Without a limit (the dev
 * cluster, a VM) they are the fixed sizes the benchmarks ran with: 128 MiB block cache, 64 MiB of
 * memtables, and a value cache of 128 MiB or a quarter of the heap when that is less.
 */
public record MemoryBudget(long limitMb, long maxHeapMb, long blockCacheMb, long valueCacheMb, long writeBufferMb) {
    /** The JVM's memory outside the heap and the value cache, measured at ~80 MiB under load, with room. */
    public static final long JVM_NATIVE_MB = 128;

    /**
     * The budget of this process: from its container's memory limit, if it has one, or from the system
     * property {@code limedb.memory.limit.mb} (0: none). The dev cluster sets 0 for its nodes, which share
     * one machine (and whatever limit it has) between them.
     */
    public static final MemoryBudget DETECTED = of(Long.getLong("limedb.memory.limit.mb", containerLimitMb()),
            Runtime.getRuntime().maxMemory() >> 20);

    /** The budget for a memory limit in MiB (0: none) and a heap of maxHeapMb. */
    public static MemoryBudget of(long limitMb, long maxHeapMb) {
        if (limitMb <= 0) return new MemoryBudget(0, maxHeapMb, 128, Math.min(128, maxHeapMb / 4), 64);
        long rest = Math.max(0, limitMb - maxHeapMb - JVM_NATIVE_MB);
        long blockCache = Math.max(8, rest * 40 / 100);
        // The value cache is direct memory: within -XX:MaxDirectMemorySize, by default the heap's size,
        // which Netty's buffers share.
        long valueCache = Math.min(Math.min(rest * 20 / 100, maxHeapMb / 2), 2047);
        long writeBuffer = Math.min(64, Math.max(8, rest * 20 / 100));
        return new MemoryBudget(limitMb, maxHeapMb, blockCache, valueCache, writeBuffer);
    }

    /**
     * The most the shard may hold by this budget: the heap at its maximum, the JVM's native memory, both
     * caches full, and the data's memtables plus the replication log's (half as much again).
     */
    public long plannedMb() {
        return plannedMb(blockCacheMb, valueCacheMb, writeBufferMb);
    }

    /** The same with these cache and memtable sizes (the ones in effect, when keys were set). */
    public long plannedMb(long blockCache, long valueCache, long writeBuffer) {
        return maxHeapMb + JVM_NATIVE_MB + blockCache + valueCache + writeBuffer * 3 / 2;
    }

    /** Whether there is a limit and the plan with these sizes does not fit in it. */
    public boolean exceeds(long blockCache, long valueCache, long writeBuffer) {
        return limitMb > 0 && plannedMb(blockCache, valueCache, writeBuffer) > limitMb;
    }

    /** Whether there is a limit and even this budget does not fit in it (its caches are at their smallest). */
    public boolean tight() {
        return exceeds(blockCacheMb, valueCacheMb, writeBufferMb);
    }

    /** One line for the start-up log. */
    public String describe() {
        String caches = "block cache " + blockCacheMb + " MiB, value cache " + valueCacheMb + " MiB, memtables "
                + writeBufferMb + " MiB, heap at most " + maxHeapMb + " MiB";
        return limitMb > 0 ? "memory limit " + limitMb + " MiB: " + caches : "no memory limit: " + caches;
    }

    /**
     * The container's memory limit in MiB, 0 when there is none: the JVM reads its cgroup (v1 or v2)
     * and reports the limit as the machine's memory; a limit is when that is below the host's.
     */
    static long containerLimitMb() {
        long seen;
        try {
            seen = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
        long host = hostMemoryBytes();
        return host > 0 && seen > 0 && seen < host ? seen >> 20 : 0;
    }

    private static long hostMemoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no container limit known
        }
        return 0;
    }
}
