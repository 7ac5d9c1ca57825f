package io.limedb.core.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.failover.AckQuorum.Position;
import java.util.List;
import org.junit.jupiter.api.Test;

class AckQuorumTest {
    @Test
    void twoOfTwoReplicasMustReportWhenOneAckIsNeeded() {
        // 3 members, minInSync 2: each write is on the primary and >= 1 of the 2 replicas.
        var both = List.of(new Position("a", true, 1, 10), new Position("b", true, 1, 12));
        assertThat(AckQuorum.complete(both, 2)).containsExactly("b");
        var one = List.of(new Position("a", true, 1, 10), new Position("b", false, 1, 12));
        assertThat(AckQuorum.complete(one, 2)).as("b may hold writes a lacks").isEmpty();
    }

    @Test
    void oneReportSufficesWhenEveryReplicaAcks() {
        var one = List.of(new Position("a", true, 1, 10), new Position("b", false, 1, 12));
        assertThat(AckQuorum.complete(one, 3)).containsExactly("a");
    }

    @Test
    void aNewerEpochBeatsAHigherSeqFromAnOlderEpoch() {
        // x still holds uncommitted records of epoch 1; y followed the epoch-2 primary.
        var ps = List.of(new Position("x", true, 1, 100), new Position("y", true, 2, 99));
        assertThat(AckQuorum.complete(ps, 2)).containsExactly("y");
    }

    @Test
    void equallyCaughtUpReplicasAreAllComplete() {
        var ps = List.of(new Position("a", true, 3, 7), new Position("b", true, 3, 7), new Position("c", true, 2, 9));
        assertThat(AckQuorum.complete(ps, 2)).containsExactlyInAnyOrder("a", "b");
        assertThat(AckQuorum.reportsNeeded(3, 2)).isEqualTo(3);
        assertThat(AckQuorum.reportsNeeded(2, 3)).isEqualTo(1);
    }
}
