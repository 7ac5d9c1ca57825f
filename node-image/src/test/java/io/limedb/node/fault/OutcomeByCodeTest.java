package io.limedb.node.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import org.junit.jupiter.api.Test;

/** The fault tests classify an error by its gRPC status code alone; that must agree with every ErrorCode. */
class OutcomeByCodeTest {

    @Test
    void everyErrorCodesStatusTellsItsOutcome() {
        for (ErrorCode c : ErrorCode.values()) {
            assertThat(Workload.definitelyNotApplied(new LimeException(c, "test").toStatus()))
                    .as("%s (gRPC %s, outcome %s)", c, c.grpc(), c.outcome())
                    .isEqualTo(c.outcome() == ErrorCode.Outcome.NOT_APPLIED);
        }
    }

    @Test
    void aStatusTheClientLibraryMadeIsUnknown() {
        // No limedb-error trailer: a deadline of the client's own, or a connection that broke mid-call.
        assertThat(Workload.definitelyNotApplied(Status.DEADLINE_EXCEEDED.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.UNKNOWN.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.INTERNAL.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.UNAVAILABLE.asRuntimeException())).isFalse();
        assertThat(Workload.definitelyNotApplied(Status.FAILED_PRECONDITION.asRuntimeException())).isFalse();
    }
}
