package io.limedb.operator.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CapacityTest {
    private static final long GI = 1L << 30;

    @Test
    void dataUpTo80PercentOfTheRemainingVolumesFits() {
        assertThat(Capacity.checkScaleIn(3, 2, (long) (1.6 * GI), "1Gi")).isEmpty();
        assertThat(Capacity.checkScaleIn(3, 1, 0, "256Mi")).isEmpty();
    }

    @Test
    void moreIsRefusedWithTheFiguresAndWhatToDo() {
        var r = Capacity.checkScaleIn(4, 2, (long) (1.7 * GI), "1Gi");
        assertThat(r).isPresent();
        assertThat(r.get().shards()).isEqualTo(2);
        assertThat(r.get().message()).isEqualTo("spec.shards 4 -> 2 refused: the data (1.7 GiB live, summed over the "
                + "primaries) would fill 85% of 2 shard(s) of storage.size 1Gi, above the 80% limit; set spec.shards to "
                + "at least 3 (or back to 4), or delete data first");
    }

    @Test
    void aClusterAlreadyOverTheLimitIsToldToGrow() {
        var r = Capacity.checkScaleIn(2, 1, 15L << 20, "4Mi");
        assertThat(r.get().message()).endsWith("would fill 375% of 1 shard(s) of storage.size 4Mi, above the 80% limit; "
                + "set spec.shards back to 2; the data is above the limit at 2 shards already: add shards (5 or more) "
                + "or raise storage.size");
        assertThat(Capacity.checkScaleIn(3, 2, (long) (2.3 * GI), "1Gi").get().message())
                .endsWith("set spec.shards back to 3, or delete data first");
    }

    @Test
    void quantitiesInEveryUnit() {
        assertThat(Capacity.bytes("1Gi")).isEqualTo(GI);
        assertThat(Capacity.bytes("256Mi")).isEqualTo(256L << 20);
        assertThat(Capacity.bytes("1G")).isEqualTo(1_000_000_000L);
        assertThat(Capacity.bytes("1.5Gi")).isEqualTo(3 * GI / 2);
        assertThat(Capacity.bytes("1024")).isEqualTo(1024);
    }
}
