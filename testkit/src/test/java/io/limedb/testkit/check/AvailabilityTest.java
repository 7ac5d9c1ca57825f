package io.limedb.testkit.check;

import static io.limedb.testkit.check.Histories.history;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AvailabilityTest {

    @Test
    void shareAndLongestGapBetweenAcknowledgedWrites() {
        var writes = history()
                .write(1, "a", "1", 100, 200)
                .failedWrite(1, "a", "2", 300, 400)
                .unknownWrite(2, "b", "1", 350)
                .write(1, "a", "3", 500, 1_500)      // the gap 200 -> 1500 us is the longest
                .write(1, "a", "4", 1_600, 1_700)
                .read(3, "a", "4", 1_800, 1_900)     // reads count as operations, not as writes
                .build();
        var outside = history().write(9, "z", "1", 5_000, 5_100).build(); // invoked after the window
        var a = Availability.of(List.of(writes, outside), 0, 2_000_000);
        assertThat(a.operations()).isEqualTo(6);
        assertThat(a.acknowledged()).isEqualTo(4);
        assertThat(a.share()).isEqualTo(4 / 6.0);
        assertThat(a.longestGapNanos()).isEqualTo(1_300_000);
        assertThat(a.gapStartNanos()).isEqualTo(200_000);
    }

    @Test
    void theEdgesOfTheWindowEndGaps() {
        var h = history().write(1, "a", "1", 100, 200).build();
        var a = Availability.of(List.of(h), 0, 10_000_000);
        assertThat(a.longestGapNanos()).isEqualTo(10_000_000 - 200_000);
        assertThat(a.gapStartNanos()).isEqualTo(200_000);
        var none = Availability.of(List.of(history().build()), 0, 1_000);
        assertThat(none.share()).isEqualTo(1.0);
        assertThat(none.longestGapNanos()).isEqualTo(1_000);
    }
}
