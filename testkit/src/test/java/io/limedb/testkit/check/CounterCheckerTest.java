package io.limedb.testkit.check;

import static io.limedb.testkit.check.Histories.history;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CounterCheckerTest {

    // c: 3 acknowledged, 1 failed, 2 unknown increments of 1; d: 1 acknowledged +5, 1 unknown -2.
    private final Histories h = history()
            .write(1, "c", "1", 0, 10)
            .write(1, "c", "1", 20, 30)
            .write(2, "c", "1", 0, 10)
            .failedWrite(2, "c", "1", 20, 30)
            .unknownWrite(3, "c", "1", 0)
            .unknownWrite(3, "c", "1", 40)
            .write(1, "d", "5", 0, 10)
            .unknownWrite(2, "d", "-2", 40)
            .read(4, "c", "3", 50, 60);

    @Test
    void valuesWithinTheOutcomesAreOk() {
        for (long c = 3; c <= 5; c++) {
            var report = CounterChecker.check(h.build(), Map.of("c", c, "d", 5L));
            assertThat(report.ok()).as("c=%d", c).isTrue();
        }
        var report = CounterChecker.check(h.build(), Map.of("c", 4L, "d", 3L));
        assertThat(report.ok()).isTrue();
        assertThat(report.counters()).containsExactly(
                new CounterReport.Counter("c", 3, 1, 2, 3, 5, 4),
                new CounterReport.Counter("d", 1, 0, 1, 3, 5, 3));
        assertThat(report.acknowledged()).isEqualTo(4);
        assertThat(report.failed()).isEqualTo(1);
        assertThat(report.unknown()).isEqualTo(3);
        assertThat(report.lost()).isZero();
        assertThat(report.summary()).isEqualTo("""
                c: acknowledged=3 failed=1 unknown=2 final=4 allowed=[3..5] ok
                d: acknowledged=1 failed=0 unknown=1 final=3 allowed=[3..5] ok""");
    }

    @Test
    void belowTheAcknowledgedIncrementsIsALoss() {
        var report = CounterChecker.check(h.build(), Map.of("c", 1L, "d", 5L));
        assertThat(report.ok()).isFalse();
        assertThat(report.lost()).isEqualTo(2);
        assertThat(report.counters().get(0).summary()).endsWith("LOST 2 acknowledged");
    }

    @Test
    void aboveAcknowledgedPlusUnknownIsAnExcess() {
        // A failed increment that was applied after all, or one applied twice by a retry.
        var report = CounterChecker.check(h.build(), Map.of("c", 6L, "d", 5L));
        assertThat(report.ok()).isFalse();
        assertThat(report.lost()).isZero();
        assertThat(report.counters().get(0).summary()).endsWith("EXCESS 1");
    }

    @Test
    void anAbsentCounterIsZero() {
        var report = CounterChecker.check(history().failedWrite(1, "e", "1", 0, 1).unknownWrite(1, "e", "1", 2).build(), Map.of());
        assertThat(report.ok()).isTrue();
        assertThat(CounterChecker.check(history().write(1, "e", "1", 0, 1).build(), Map.of()).lost()).isEqualTo(1);
    }

    @Test
    void rejectsDeletesAndValuesThatAreNotDeltas() {
        assertThatThrownBy(() -> CounterChecker.check(history().delete(1, "c", 0, 1).build(), Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CounterChecker.check(history().write(1, "c", "one", 0, 1).build(), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delta");
    }
}
