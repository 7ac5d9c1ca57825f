package io.limedb.node.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MemoryBudgetTest {
    @Test
    void withoutALimitTheFixedSizesTheBenchmarksRanWith() {
        assertThat(MemoryBudget.of(0, 512)).isEqualTo(new MemoryBudget(0, 512, 128, 128, 64));
        assertThat(MemoryBudget.of(0, 256).valueCacheMb()).isEqualTo(64); // a quarter of a small heap
        assertThat(MemoryBudget.of(0, 512).tight()).isFalse();
    }

    @Test
    void underALimitEverythingPlannedFitsInsideIt() {
        // The heaps the JVM picks with -XX:MaxRAMPercentage=25 (at least its 128 MiB default below 512 MiB).
        for (long limit : new long[] {320, 384, 512, 1024, 2048, 4096, 16384}) {
            long heap = Math.max(128, limit / 4);
            var b = MemoryBudget.of(limit, heap);
            assertThat(b.plannedMb()).as("planned at %d MiB: %s", limit, b).isLessThanOrEqualTo(limit);
            assertThat(b.blockCacheMb()).isGreaterThanOrEqualTo(8);
            assertThat(b.writeBufferMb()).isBetween(8L, 64L);
            assertThat(b.valueCacheMb()).isBetween(0L, Math.min(2047, heap / 2)); // direct memory, within the heap's size
        }
    }

    @Test
    void largerPodsGetLargerCachesAndTheMemtablesStaySmall() {
        var small = MemoryBudget.of(512, 128);
        var large = MemoryBudget.of(8192, 2048);
        assertThat(large.blockCacheMb()).isGreaterThan(small.blockCacheMb() * 10);
        assertThat(large.valueCacheMb()).isEqualTo(1024); // half the heap
        assertThat(large.writeBufferMb()).isEqualTo(64);
        assertThat(small).isEqualTo(new MemoryBudget(512, 128, 102, 51, 51));
    }

    @Test
    void aLimitTooSmallForThePlanIsFlagged() {
        var b = MemoryBudget.of(256, 128); // the JVM's heap is 128 MiB at least
        assertThat(b.tight()).isTrue();
        assertThat(b.blockCacheMb()).isEqualTo(8);
        assertThat(b.writeBufferMb()).isEqualTo(8);
        assertThat(b.describe()).contains("memory limit 256 MiB");
        assertThat(MemoryBudget.of(320, 128).tight()).isFalse();
        // Caches set by hand beyond the budget are flagged too.
        assertThat(MemoryBudget.of(512, 128).exceeds(128, 128, 64)).isTrue();
        assertThat(MemoryBudget.of(0, 512).exceeds(4096, 2047, 64)).isFalse(); // no limit, nothing to exceed
    }
}
