package io.limedb.node.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.limedb.node.errors.ErrorCode;
import org.junit.jupiter.api.Test;

/** The fault tests classify an error by its gRPC status code alone; that must agree with every ErrorCode. */
class OutcomeByCodeTest {

    @Test
    void everyErrorCodesStatusTellsItsOutcome() {
        for (ErrorCode c : ErrorCode.values()) {
            assertThat(Workload.definitelyNotApplied(Status.fromCode(c.grpc()).asRuntimeException()))
                    .as("%s (gRPC %s, outcome %s)", c, c.grpc(), c.outcome())
                    .isEqualTo(c.outcome() == ErrorCode.Outcome.NOT_APPLIED);
        }
    }

    @Test
    void aClientDeadlineIsUnknownAndUnreachableIsNotApplied() {
        assertThat(Workload.definitelyNotApplied(Status.DEADLINE_EXCEEDED.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.UNKNOWN.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.INTERNAL.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.UNAVAILABLE.asRuntimeException())).isTrue();
        assertThat(Workload.definitelyNotApplied(Status.FAILED_PRECONDITION.asRuntimeException())).isTrue();
    }
}
