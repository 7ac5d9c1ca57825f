package io.limedb.testkit.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class OperationTest {

    @Test
    void validatesShape() {
        assertThatThrownBy(() -> new Operation(1, 0, OpKind.WRITE, "k", null, 0, 1, Outcome.OK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> new Operation(1, 0, OpKind.DELETE, "k", "v", 0, 1, Outcome.OK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not carry a value");
        assertThatThrownBy(() -> new Operation(1, 0, OpKind.READ, "k", "v", 0, 1, Outcome.FAIL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("returned no value");
        assertThatThrownBy(() -> new Operation(1, 0, OpKind.READ, "k", null, 0, 5, Outcome.UNKNOWN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NEVER");
        assertThatThrownBy(() -> new Operation(1, 0, OpKind.READ, "k", null, 0, Operation.NEVER, Outcome.OK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NEVER");
        assertThatThrownBy(() -> new Operation(1, 0, OpKind.READ, "k", null, 5, 4, Outcome.OK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("before it was invoked");
    }

    @Test
    void precedesIsStrictRealTimeOrder() {
        var a = new Operation(1, 0, OpKind.WRITE, "k", "v", 0, 10, Outcome.OK);
        var b = new Operation(2, 0, OpKind.READ, "k", "v", 11, 20, Outcome.OK);
        var touching = new Operation(3, 0, OpKind.READ, "k", "v", 10, 20, Outcome.OK);
        var unknown = new Operation(4, 0, OpKind.WRITE, "k", "v", 0, Operation.NEVER, Outcome.UNKNOWN);
        assertThat(a.precedes(b)).isTrue();
        assertThat(b.precedes(a)).isFalse();
        assertThat(a.precedes(touching)).isFalse();
        assertThat(unknown.precedes(b)).isFalse();
    }

    @Test
    void describesInMicrosecondsFromAnOrigin() {
        var op = new Operation(7, 3, OpKind.READ, "k", null, 5_000, 9_000, Outcome.OK);
        assertThat(op.describe(1_000)).isEqualTo("#7 client 3 read(k) -> absent OK [4..8 us]");
        var w = new Operation(8, 1, OpKind.WRITE, "k", "v", 1_000, Operation.NEVER, Outcome.UNKNOWN);
        assertThat(w.describe(1_000)).isEqualTo("#8 client 1 write(k, \"v\") UNKNOWN [0..? us]");
    }

    @Test
    void historySortsByInvokeAndGroupsByKey() {
        var late = new Operation(1, 0, OpKind.WRITE, "b", "v", 50, 60, Outcome.OK);
        var early = new Operation(2, 1, OpKind.WRITE, "a", "v", 10, 20, Outcome.OK);
        var h = new History(List.of(late, early));
        assertThat(h.operations()).containsExactly(early, late);
        assertThat(h.byKey()).containsOnlyKeys("a", "b");
        assertThat(h.originNanos()).isEqualTo(10);
    }
}
