package io.limedb.testkit.check;

import static io.limedb.testkit.check.Histories.history;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SetCheckerTest {

    private final Histories h = history()
            .write(1, "a", "va", 0, 10)
            .write(2, "b", "vb", 0, 10)
            .failedWrite(3, "c", "vc", 0, 10)
            .unknownWrite(4, "d", "vd", 0)
            .unknownWrite(5, "e", "ve", 0)
            .read(1, "a", "va", 20, 30);

    @Test
    void allAcknowledgedPresentIsOk() {
        var report = SetChecker.check(h.build(), Map.of("a", "va", "b", "vb", "d", "vd"));
        assertThat(report.ok()).isTrue();
        assertThat(report).isEqualTo(new SetReport(5, 2, 1, 2, 1, java.util.List.of(), java.util.List.of()));
        assertThat(report.summary())
                .isEqualTo("attempted=5 acknowledged=2 failed=1 unknown=2 recovered=1 lost=0 unexpected=0");
        assertThat(report.toString()).isEqualTo(report.summary());
    }

    @Test
    void missingAcknowledgedKeyIsLost() {
        var report = SetChecker.check(h.build(), Map.of("a", "va"));
        assertThat(report.ok()).isFalse();
        assertThat(report.lost()).containsExactly("b");
        assertThat(report.unexpected()).isEmpty();
        assertThat(report.summary()).contains("lost=1", "lost keys=[b]");
    }

    @Test
    void acknowledgedKeyWithOtherValueIsLostAndUnexpected() {
        var report = SetChecker.check(h.build(), Map.of("a", "va", "b", "other"));
        assertThat(report.lost()).containsExactly("b");
        assertThat(report.unexpected()).containsExactly("b");
    }

    @Test
    void unknownWritesMayBePresentOrAbsent() {
        assertThat(SetChecker.check(h.build(), Map.of("a", "va", "b", "vb")).recovered()).isZero();
        var report = SetChecker.check(h.build(), Map.of("a", "va", "b", "vb", "d", "vd", "e", "ve"));
        assertThat(report.ok()).isTrue();
        assertThat(report.recovered()).isEqualTo(2);
    }

    @Test
    void unknownWriteWithWrongValueIsUnexpected() {
        var report = SetChecker.check(h.build(), Map.of("a", "va", "b", "vb", "d", "garbage"));
        assertThat(report.unexpected()).containsExactly("d");
        assertThat(report.recovered()).isZero();
    }

    @Test
    void failedWriteThatIsPresentIsUnexpected() {
        var report = SetChecker.check(h.build(), Map.of("a", "va", "b", "vb", "c", "vc"));
        assertThat(report.ok()).isFalse();
        assertThat(report.unexpected()).containsExactly("c");
    }

    @Test
    void neverAttemptedKeyIsUnexpected() {
        var report = SetChecker.check(h.build(), Map.of("a", "va", "b", "vb", "zz", "x"));
        assertThat(report.unexpected()).containsExactly("zz");
        assertThat(report.summary()).contains("unexpected=1", "unexpected keys=[zz]");
    }

    @Test
    void nullValuesInFinalStateMeanAbsent() {
        var state = new HashMap<String, String>(Map.of("a", "va"));
        state.put("b", null);
        state.put("zz", null);
        var report = SetChecker.check(h.build(), state);
        assertThat(report.lost()).containsExactly("b");
        assertThat(report.unexpected()).isEmpty();
    }

    @Test
    void summaryListsAtMostTenKeys() {
        var big = history();
        for (int i = 0; i < 25; i++) big.write(i, "k" + (100 + i), "v", i, i + 1);
        var report = SetChecker.check(big.build(), Map.of());
        assertThat(report.lost()).hasSize(25).first().isEqualTo("k100");
        assertThat(report.summary()).contains("lost=25", "and 15 more").doesNotContain("k124");
    }

    @Test
    void rejectsKeysWrittenTwiceAndDeletes() {
        var twice = history().write(1, "a", "1", 0, 1).write(2, "a", "2", 0, 1).build();
        assertThatThrownBy(() -> SetChecker.check(twice, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key a is written by");
        var delete = history().delete(1, "a", 0, 1).build();
        assertThatThrownBy(() -> SetChecker.check(delete, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not delete");
    }
}
