package io.limedb.core.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class FailoverPlannerTest {

    private static final String SHARD = "shard-0";
    private static final String P = "shard-0-0";

    static MemberStatus primaryDown(long seq) {
        return new MemberStatus(P, "p:7000", false, Role.PRIMARY, 3, seq, true, 0);
    }

    static MemberStatus replica(String id, long seq, boolean inSync) {
        return new MemberStatus(id, id + ":7000", true, Role.REPLICA, 3, seq, inSync, 0);
    }

    static FailoverPlan.Promote promoted(FailoverPlan plan) {
        assertThat(plan).isInstanceOf(FailoverPlan.Promote.class);
        return (FailoverPlan.Promote) plan;
    }

    static FailoverPlan.Refuse refused(FailoverPlan plan) {
        assertThat(plan).isInstanceOf(FailoverPlan.Refuse.class);
        return (FailoverPlan.Refuse) plan;
    }

    @Nested
    class Sync {
        @Test
        void promotesTheMostCaughtUpInSyncReplica() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 90, true), replica("shard-0-2", 95, true)),
                    FailoverPolicy.sync(2));
            var p = promoted(plan);
            assertThat(p.newPrimaryId()).isEqualTo("shard-0-2");
            assertThat(p.newEpoch()).isEqualTo(4);
            assertThat(p.expectedLossRecords()).isZero();
        }

        @Test
        void inSyncReplicaWinsOverMoreCaughtUpOutOfSyncOne() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 80, true), replica("shard-0-2", 99, false)),
                    FailoverPolicy.sync(2));
            assertThat(promoted(plan).newPrimaryId()).isEqualTo("shard-0-1");
        }

        @Test
        void refusesWithoutInSyncReplicaAndNamesShardAndMembers() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 80, false), replica("shard-0-2", 99, false)),
                    FailoverPolicy.sync(2));
            var reason = refused(plan).reason();
            assertThat(reason).contains("shard-0", "no reachable replica is in sync", "force",
                    "shard-0-0 unreachable", "shard-0-1 REPLICA not in sync, applied 80 of 100",
                    "shard-0-2 REPLICA not in sync, applied 99 of 100");
            assertThat(plan.summary()).startsWith("shard shard-0: failover refused");
        }

        @Test
        void unreachableInSyncReplicaIsNotACandidate() {
            var down = new MemberStatus("shard-0-1", "a:1", false, Role.REPLICA, 3, 100, true, 0);
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), down, replica("shard-0-2", 100, false)), FailoverPolicy.sync(2));
            assertThat(refused(plan).reason()).contains("shard-0-1 unreachable");
        }

        @Test
        void forcePromotesBestReplicaAndReportsLoss() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 80, false), replica("shard-0-2", 99, false)),
                    FailoverPolicy.sync(2).forced());
            var p = promoted(plan);
            assertThat(p.newPrimaryId()).isEqualTo("shard-0-2");
            assertThat(p.expectedLossRecords()).isEqualTo(1);
        }
    }

    @Nested
    class Async {
        @Test
        void promotesMostCaughtUpReplicaAndReportsLossWindow() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 97, false), replica("shard-0-2", 90, false)),
                    FailoverPolicy.async(10));
            var p = promoted(plan);
            assertThat(p.newPrimaryId()).isEqualTo("shard-0-1");
            assertThat(p.expectedLossRecords()).isEqualTo(3);
        }

        @Test
        void lossWindowUsesReplicaReportedLagWhenPrimaryReportIsOlder() {
            var lagging = new MemberStatus("shard-0-2", "b:1", true, Role.REPLICA, 3, 90, false, 30);
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 110, false), lagging),
                    FailoverPolicy.async(50));
            var p = promoted(plan);
            assertThat(p.newPrimaryId()).isEqualTo("shard-0-1");
            assertThat(p.expectedLossRecords()).isEqualTo(10); // head proven by shard-0-2: 90 + 30
        }

        @Test
        void refusesOverLagLimitWithReason() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(1000), replica("shard-0-1", 900, false)), FailoverPolicy.async(50));
            assertThat(refused(plan).reason()).contains("shard-0", "shard-0-1", "100 records behind",
                    "maxAsyncLagRecords=50", "force");
        }

        @Test
        void lagExactlyAtLimitIsAccepted() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(1000), replica("shard-0-1", 950, false)), FailoverPolicy.async(50));
            assertThat(promoted(plan).expectedLossRecords()).isEqualTo(50);
        }

        @Test
        void forcePromotesOverLagLimit() {
            var plan = FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(1000), replica("shard-0-1", 900, false)), FailoverPolicy.async(50).forced());
            var p = promoted(plan);
            assertThat(p.newPrimaryId()).isEqualTo("shard-0-1");
            assertThat(p.expectedLossRecords()).isEqualTo(100);
        }
    }

    @Nested
    class Epochs {
        @Test
        void newEpochIsAboveCurrentEpoch() {
            var plan = FailoverPlanner.plan(SHARD, 7, P,
                    List.of(primaryDown(10), replica("shard-0-1", 10, true)), FailoverPolicy.sync(1));
            assertThat(promoted(plan).newEpoch()).isEqualTo(8);
        }

        @Test
        void newEpochIsAboveAnyEpochAMemberPersisted() {
            var ahead = new MemberStatus("shard-0-2", "b:1", true, Role.UNKNOWN, 12, 5, false, 0);
            var unreachableAhead = new MemberStatus("shard-0-3", "c:1", false, Role.REPLICA, 15, 5, false, 0);
            var plan = FailoverPlanner.plan(SHARD, 7, P,
                    List.of(primaryDown(10), replica("shard-0-1", 10, true), ahead, unreachableAhead),
                    FailoverPolicy.sync(1));
            var p = promoted(plan);
            assertThat(p.newEpoch()).isEqualTo(16);
            assertThat(p.commands()).allSatisfy(c -> assertThat(c.epoch()).isEqualTo(16));
        }

        @Test
        void repeatedPlansWithPersistedEpochsStrictlyGrow() {
            long epoch = 0;
            for (int i = 0; i < 5; i++) {
                var plan = promoted(FailoverPlanner.plan(SHARD, epoch, P,
                        List.of(primaryDown(10), new MemberStatus("shard-0-1", "a:1", true, Role.REPLICA,
                                epoch + i, 10, true, 0)), FailoverPolicy.sync(1)));
                assertThat(plan.newEpoch()).isGreaterThan(epoch);
                epoch = plan.newEpoch();
            }
        }
    }

    @Nested
    class Commands {
        @Test
        void reachableOldPrimaryIsFencedFirstThenPromoteThenFollowers() {
            var oldPrimary = new MemberStatus(P, "p:7000", true, Role.UNKNOWN, 3, 100, false, 0);
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(replica("shard-0-2", 90, true), oldPrimary, replica("shard-0-1", 95, true)),
                    FailoverPolicy.sync(2)));
            assertThat(plan.commands()).containsExactly(
                    new Command.Fence(P, "p:7000", 4),
                    new Command.Promote("shard-0-1", "shard-0-1:7000", 4),
                    new Command.Follow(P, "p:7000", "shard-0-1:7000", 4),
                    new Command.Follow("shard-0-2", "shard-0-2:7000", "shard-0-1:7000", 4));
        }

        @Test
        void unreachableOldPrimaryGetsNoCommand() {
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 95, true), replica("shard-0-2", 90, true)),
                    FailoverPolicy.sync(2)));
            assertThat(plan.commands()).noneMatch(c -> c.memberId().equals(P));
            assertThat(plan.commands()).noneMatch(c -> c instanceof Command.Fence);
            assertThat(plan.commands().getFirst()).isInstanceOf(Command.Promote.class);
        }

        @Test
        void strayMemberReportingPrimaryIsFencedToo() {
            var stray = new MemberStatus("shard-0-3", "s:1", true, Role.PRIMARY, 2, 50, false, 0);
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 100, true), stray), FailoverPolicy.sync(1)));
            assertThat(plan.commands()).containsExactly(
                    new Command.Fence("shard-0-3", "s:1", 4),
                    new Command.Promote("shard-0-1", "shard-0-1:7000", 4),
                    new Command.Follow("shard-0-3", "s:1", "shard-0-1:7000", 4));
        }

        @Test
        void unreachableReplicasGetNoFollow() {
            var down = new MemberStatus("shard-0-2", "b:1", false, Role.REPLICA, 3, 100, true, 0);
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 100, true), down), FailoverPolicy.sync(1)));
            assertThat(plan.commands()).containsExactly(new Command.Promote("shard-0-1", "shard-0-1:7000", 4));
        }

        @Test
        void commandListIsImmutable() {
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-1", 100, true)), FailoverPolicy.sync(1)));
            assertThatThrownBy(() -> plan.commands().clear()).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Nested
    class Decisions {
        @Test
        void noActionWhileCurrentPrimaryIsReachableAndPrimary() {
            var up = new MemberStatus(P, "p:7000", true, Role.PRIMARY, 3, 100, true, 0);
            var plan = FailoverPlanner.plan(SHARD, 3, P, List.of(up, replica("shard-0-1", 100, true)),
                    FailoverPolicy.sync(2));
            assertThat(plan).isInstanceOf(FailoverPlan.NoAction.class);
            assertThat(plan.summary()).contains("shard-0", P);
        }

        @Test
        void reachableOldPrimaryThatLostItsRoleIsReplacedNotPromoted() {
            var restarted = new MemberStatus(P, "p:7000", true, Role.REPLICA, 3, 200, true, 0);
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(restarted, replica("shard-0-1", 100, true)), FailoverPolicy.sync(1)));
            assertThat(plan.newPrimaryId()).isEqualTo("shard-0-1");
            assertThat(plan.commands().getFirst()).isEqualTo(new Command.Fence(P, "p:7000", 4));
        }

        @Test
        void refusesWhenNoReplicaIsReachable() {
            var down = new MemberStatus("shard-0-1", "a:1", false, Role.REPLICA, 3, 100, true, 0);
            var unknown = new MemberStatus("shard-0-2", "b:1", true, Role.UNKNOWN, 3, 100, true, 0);
            var plan = FailoverPlanner.plan(SHARD, 3, P, List.of(primaryDown(100), down, unknown),
                    FailoverPolicy.async(1000).forced());
            assertThat(refused(plan).reason()).contains("shard-0", "no reachable replica",
                    "shard-0-1 unreachable", "shard-0-2 UNKNOWN");
        }

        @Test
        void primaryMissingFromMembersIsTreatedAsUnreachable() {
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, "gone",
                    List.of(replica("shard-0-1", 100, true)), FailoverPolicy.sync(1)));
            assertThat(plan.commands()).containsExactly(new Command.Promote("shard-0-1", "shard-0-1:7000", 4));
        }

        @Test
        void shardWithoutPrimaryGetsOne() {
            var plan = promoted(FailoverPlanner.plan(SHARD, 0, null,
                    List.of(replica("shard-0-1", 0, true), replica("shard-0-2", 0, true)), FailoverPolicy.sync(1)));
            assertThat(plan.newPrimaryId()).isEqualTo("shard-0-1");
        }

        @Test
        void tieBreaksPreferInSyncThenLowestMemberId() {
            var plan = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-3", 100, false), replica("shard-0-2", 100, true),
                            replica("shard-0-1", 100, false)), FailoverPolicy.async(0)));
            assertThat(plan.newPrimaryId()).isEqualTo("shard-0-2");
            var plan2 = promoted(FailoverPlanner.plan(SHARD, 3, P,
                    List.of(primaryDown(100), replica("shard-0-3", 100, true), replica("shard-0-2", 100, true)),
                    FailoverPolicy.sync(1)));
            assertThat(plan2.newPrimaryId()).isEqualTo("shard-0-2");
        }

        @Test
        void planDoesNotDependOnMemberOrder() {
            var members = new ArrayList<>(List.of(
                    new MemberStatus(P, "p:7000", true, Role.UNKNOWN, 5, 100, false, 0),
                    replica("shard-0-1", 98, true), replica("shard-0-2", 98, true),
                    replica("shard-0-3", 99, false), replica("shard-0-4", 97, true),
                    new MemberStatus("shard-0-5", "x:1", false, Role.REPLICA, 6, 98, true, 0)));
            var expected = FailoverPlanner.plan(SHARD, 4, P, members, FailoverPolicy.sync(2));
            var random = new Random(42);
            for (int i = 0; i < 50; i++) {
                Collections.shuffle(members, random);
                assertThat(FailoverPlanner.plan(SHARD, 4, P, members, FailoverPolicy.sync(2))).isEqualTo(expected);
            }
            assertThat(promoted(expected).newPrimaryId()).isEqualTo("shard-0-1");
        }
    }

    @Nested
    class Validation {
        @Test
        void rejectsMissingOrEmptyMembers() {
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, 0, P, null, FailoverPolicy.sync(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("members of shard shard-0");
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, 0, P, List.of(), FailoverPolicy.sync(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be null or empty");
            var withNull = new ArrayList<MemberStatus>();
            withNull.add(null);
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, 0, P, withNull, FailoverPolicy.sync(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not contain null");
        }

        @Test
        void rejectsDuplicateMembers() {
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, 0, P,
                    List.of(replica("shard-0-1", 1, true), replica("shard-0-1", 2, true)), FailoverPolicy.sync(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shard-0-1 of shard shard-0 is listed twice");
        }

        @Test
        void rejectsBadPolicyValues() {
            assertThatThrownBy(() -> FailoverPolicy.sync(0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("minInSync must be >= 1, was 0");
            assertThatThrownBy(() -> FailoverPolicy.async(-1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAsyncLagRecords must be >= 0");
            assertThatThrownBy(() -> new FailoverPolicy(null, 1, 0, false))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("mode");
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, 0, P, List.of(replica("shard-0-1", 1, true)), null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("policy");
        }

        @Test
        void rejectsMinInSyncAboveShardSize() {
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, 0, P,
                    List.of(primaryDown(1), replica("shard-0-1", 1, true)), FailoverPolicy.sync(3)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("minInSync=3 exceeds the 2 members of shard shard-0");
        }

        @Test
        void rejectsBlankShardAndNegativeEpoch() {
            var members = List.of(replica("shard-0-1", 1, true));
            assertThatThrownBy(() -> FailoverPlanner.plan(" ", 0, P, members, FailoverPolicy.sync(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shardId");
            assertThatThrownBy(() -> FailoverPlanner.plan(SHARD, -1, P, members, FailoverPolicy.sync(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("currentEpoch of shard shard-0");
        }

        @Test
        void rejectsBadMemberStatus() {
            assertThatThrownBy(() -> new MemberStatus("", "a:1", true, Role.REPLICA, 0, 0, true, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memberId");
            assertThatThrownBy(() -> new MemberStatus("m", " ", true, Role.REPLICA, 0, 0, true, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("address of member m");
            assertThatThrownBy(() -> new MemberStatus("m", "a:1", true, Role.REPLICA, 0, -5, true, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("lastAppliedSeq of member m must be >= 0, was -5");
            assertThatThrownBy(() -> new MemberStatus("m", "a:1", true, Role.REPLICA, -1, 0, true, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("epoch of member m");
        }
    }
}
