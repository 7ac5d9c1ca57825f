package io.limedb.core.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.topology.ReplicationMode;
import io.limedb.core.topology.Role;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ElectionTest {
    private static final List<String> FIVE = List.of("m0", "m1", "m2", "m3", "m4");

    private static MemberReport fenced(String id, long lastEpoch, long lastSeq) {
        return new MemberReport(id, Role.UNKNOWN, 9, lastEpoch, lastSeq, id + "/s", true, "", 0, 0, false, 0);
    }

    private static Map<String, MemberReport> answers(MemberReport... rs) {
        return Arrays.stream(rs).collect(Collectors.toMap(MemberReport::memberId, Function.identity()));
    }

    private static Election.Outcome sync(int minInSync, MemberReport... rs) {
        return Election.choose(new Election.Ballot("s", 9, FIVE, answers(rs), false, false, 0),
                FailoverPolicy.sync(minInSync));
    }

    @Test
    void syncNeedsMembersMinusMinInSyncPlusOneCaughtUpAnswers() {
        assertThat(FailoverPolicy.sync(2).answersNeeded(3)).isEqualTo(2);
        assertThat(FailoverPolicy.sync(3).answersNeeded(5)).isEqualTo(3);
        assertThat(FailoverPolicy.sync(5).answersNeeded(5)).isEqualTo(1);
        assertThat(sync(3, fenced("m1", 8, 5), fenced("m2", 8, 6))).isInstanceOf(Election.Refused.class);
        assertThat(sync(3, fenced("m1", 8, 5), fenced("m2", 8, 6), fenced("m3", 8, 4)))
                .isEqualTo(new Election.Chosen("m2", 0, "3 fenced, caught-up answers of 3 needed; "
                        + "the most caught-up holds every acknowledged write"));
    }

    @Test
    void theEpochOfTheLastRecordComesBeforeItsSeqAndTiesGoToTheLowestId() {
        var chosen = sync(5, fenced("m3", 7, 100), fenced("m4", 8, 50));
        assertThat(((Election.Chosen) chosen).memberId()).isEqualTo("m4");
        chosen = sync(5, fenced("m3", 8, 50), fenced("m1", 8, 50));
        assertThat(((Election.Chosen) chosen).memberId()).isEqualTo("m1");
    }

    @Test
    void answersAtAnotherEpochAreNotFenced() {
        var stale = new MemberReport("m1", Role.REPLICA, 8, 8, 100, "x", true, "m0", 0, 0, false, 0);
        var outcome = sync(5, stale);
        assertThat(outcome).isInstanceOf(Election.Refused.class);
        assertThat(((Election.Refused) outcome).reason()).contains("m1 answered at epoch 8").contains("m0 did not answer");
    }

    @Test
    void aStandaloneShardHasNoFailoverPolicy() {
        assertThatThrownBy(() -> new FailoverPolicy(ReplicationMode.NONE, 1, 0, false))
                .hasMessageContaining("standalone");
    }
}
