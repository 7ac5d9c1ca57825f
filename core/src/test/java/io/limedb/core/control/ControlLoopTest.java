package io.limedb.core.control;

import static io.limedb.core.control.Fixture.A;
import static io.limedb.core.control.Fixture.B;
import static io.limedb.core.control.Fixture.C;
import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.topology.Role;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ControlLoopTest {

    private Fixture f;

    @AfterEach
    void nothingActedOnAnUnrecordedEpoch() {
        if (f != null) assertThat(f.members.violations).isEmpty();
    }

    /** Asserts the shard ended with {@code primary} published at {@code epoch}, the only primary of it. */
    private void assertPublished(String primary, long epoch) {
        assertThat(f.store.state().intent(Fixture.SHARD)).isEmpty();
        assertThat(f.shard().epoch()).isEqualTo(epoch);
        assertThat(f.shard().primary().id()).isEqualTo(primary);
        assertThat(f.primariesAt(epoch)).containsExactly(primary);
        assertThat(f.highestMemberEpoch()).isEqualTo(epoch);
    }

    @Nested
    class Healthy {
        @Test
        void aHealthyShardIsLeftAlone() {
            f = Fixture.healthy(3, 100);
            var loop = f.loop();
            f.run(loop, 10_000);
            assertThat(f.store.version()).isEqualTo(1);
            assertThat(f.members.calls).isEmpty();
            assertThat(f.events).isEmpty();
            assertThat(loop.failovers()).isEmpty();
            assertThat(loop.healthy(Fixture.SHARD)).isTrue();
            assertThat(loop.takesWrites(Fixture.SHARD)).isTrue();
        }

        @Test
        void aPrimaryWaitingOutItsLeaseOrShortOfReplicasInSyncIsHealthyButTakesNoWrites() {
            f = Fixture.healthy(3, 100);
            var loop = f.loop();
            f.node(A).serving = false; // a new primary waiting out its predecessor's read lease
            f.run(loop, 1_000);
            assertThat(loop.healthy(Fixture.SHARD)).isTrue();
            assertThat(loop.takesWrites(Fixture.SHARD)).isFalse();
            f.node(A).serving = true;
            f.node(A).inSyncReplicas = f.policy.minInSync() - 2; // sync: a write needs minInSync-1 replicas
            f.run(loop, 1_000);
            assertThat(loop.takesWrites(Fixture.SHARD)).isFalse();
            f.node(A).inSyncReplicas = f.policy.minInSync() - 1;
            f.run(loop, 1_000);
            assertThat(loop.takesWrites(Fixture.SHARD)).isTrue();
            // No failover for any of it: the primary answers as primary at its epoch throughout.
            assertThat(f.store.version()).isEqualTo(1);
            assertThat(loop.failovers()).isEmpty();
            f.node(A).reachable = false;
            f.run(loop, 500);
            assertThat(loop.takesWrites(Fixture.SHARD)).isFalse();
        }

        @Test
        void aMemberNotFollowingThePrimaryIsToldToOnce() {
            f = Fixture.healthy(3, 100);
            f.node(C).restart();
            var loop = f.loop();
            f.run(loop, 1_000);
            assertThat(f.members.calls).containsExactly("follow " + C + " " + A + " 3");
            assertThat(f.node(C).role).isEqualTo(Role.REPLICA);
            assertThat(f.events(ControlEvent.FollowOrdered.class)).hasSize(1);
            assertThat(f.store.version()).isEqualTo(1);
        }

        @Test
        void aPrimaryBackBeforeTheTimeoutIsNoFailover() {
            f = Fixture.healthy(3, 100);
            var loop = f.loop();
            f.node(A).reachable = false;
            f.run(loop, 1_000);
            f.node(A).reachable = true;
            f.run(loop, 5_000);
            assertThat(f.events(ControlEvent.PrimarySuspected.class)).hasSize(1);
            assertThat(f.events(ControlEvent.PrimaryRecovered.class)).hasSize(1);
            assertThat(f.store.version()).isEqualTo(1);
            assertThat(f.members.calls).isEmpty();
        }
    }

    @Nested
    class Departing {
        @Test
        void aDepartingPrimaryIsSwitchedOverAtOnceToTheMostCaughtUpStayingMember() {
            f = Fixture.healthy(3, 100);
            f.node(B).lastSeq = 99;
            f.node(C).lastSeq = 97;
            f.departing = Set.of(A);
            var loop = f.loop();
            f.run(loop, 300);
            assertPublished(B, 4);
            assertThat(f.node(A).role).as("the old primary was fenced alive").isNotEqualTo(Role.PRIMARY);
            assertThat(f.events(ControlEvent.FailoverStarted.class).getFirst().message()).contains("departing");
        }

        @Test
        void aSwitchoverWaitsWhileAStayingMemberThatMayHoldAnAcknowledgedWriteIsUnreachable() {
            f = Fixture.healthy(3, 100);
            f.node(B).lastSeq = 99;
            f.node(B).reachable = false; // may hold write 100, which C lacks
            f.node(C).lastSeq = 97;
            f.departing = Set.of(A);
            var loop = f.loop();
            f.run(loop, 1_000);
            assertThat(f.members.promotedAt).isEmpty();
            assertThat(f.events(ControlEvent.Refused.class).getFirst().reason()).contains("departing");
            f.node(B).reachable = true;
            f.run(loop, 1_000);
            assertPublished(B, 4);
        }

        @Test
        void aDepartingMemberIsNeverChosenEvenWhenMostCaughtUp() {
            f = Fixture.healthy(3, 100);
            f.node(A).alive = false;
            f.node(B).lastSeq = 100;
            f.node(C).lastSeq = 90;
            f.departing = Set.of(A, B);
            var loop = f.loop();
            f.run(loop, 3_000);
            assertThat(f.members.promotedAt.values()).allSatisfy(ids -> assertThat(ids).doesNotContain(B));
        }

        @Test
        void withAutomaticFailoverOffALostPrimaryIsOnlyReported() {
            f = Fixture.healthy(3, 100);
            f.automaticFailover = false;
            f.node(A).alive = false;
            var loop = f.loop();
            f.run(loop, 10_000);
            assertThat(f.members.promotedAt).isEmpty();
            assertThat(f.events(ControlEvent.PrimarySuspected.class)).hasSize(1);
            assertThat(f.store.version()).isEqualTo(1);
        }
    }

    @Nested
    class Sync {
        @Test
        void aLostPrimaryIsReplacedOnceAtANewEpochByTheMostCaughtUpFencedMember() {
            f = Fixture.healthy(3, 100);
            f.node(B).lastSeq = 90;
            f.node(C).lastSeq = 95;
            f.node(A).alive = false;
            var loop = f.loop();
            f.run(loop, 1_400);
            assertThat(f.members.promotedAt).as("not before the failure timeout").isEmpty();
            assertThat(loop.healthy(Fixture.SHARD)).isFalse();
            f.run(loop, 5_000);
            assertPublished(C, 4);
            assertThat(loop.healthy(Fixture.SHARD)).isTrue();
            assertThat(f.members.promotedAt).isEqualTo(Map.of(4L, Set.of(C)));
            assertThat(f.shard().members()).filteredOn(m -> m.role() == Role.PRIMARY).hasSize(1);
            assertThat(f.store.state().topology().version()).isEqualTo(2);
            assertThat(f.node(B).following).isEqualTo(C);
            assertThat(f.node(B).epoch).isEqualTo(4);
            var fo = loop.failovers();
            assertThat(fo).hasSize(1);
            assertThat(fo.getFirst()).extracting(Failover::from, Failover::to, Failover::fromEpoch, Failover::toEpoch,
                    Failover::expectedLossRecords).containsExactly(A, C, 3L, 4L, 0L);
            assertThat(fo.getFirst().promotedNanos() - fo.getFirst().detectedNanos()).isGreaterThanOrEqualTo(1_500_000_000L);
        }

        @Test
        void tooFewFencedMembersIsARefusalReportedOnceThenAPromotionWhenOneReturns() {
            f = Fixture.healthy(3, 100);
            f.node(A).alive = false;
            f.node(C).reachable = false;
            f.node(C).lastSeq = 120; // it holds writes B lacks
            var loop = f.loop();
            f.run(loop, 10_000);
            assertThat(f.members.promotedAt).isEmpty();
            var refusals = f.events(ControlEvent.Refused.class);
            assertThat(refusals).hasSize(1);
            assertThat(refusals.getFirst().reason()).contains("needs fenced, caught-up answers from 2 of the 3 members")
                    .contains(A + " did not answer").contains(C + " did not answer").contains(B + " fenced");
            assertThat(f.store.state().intent(Fixture.SHARD)).hasValueSatisfying(i -> {
                assertThat(i.phase()).isEqualTo(FailoverIntent.Phase.FENCING);
                assertThat(i.epoch()).isEqualTo(4);
            });
            assertThat(f.shard().epoch()).isEqualTo(3);

            f.node(C).reachable = true;
            f.run(loop, 1_000);
            assertPublished(C, 4);
            assertThat(f.node(B).following).isEqualTo(C);
        }

        @Test
        void theOldPrimaryCountsWhenItAnswersTheFence() {
            f = Fixture.healthy(3, 100);
            f.node(A).restart(); // back with its data, not primary any more
            f.node(B).lastSeq = 97;
            f.node(C).alive = false;
            var loop = f.loop();
            f.run(loop, 5_000);
            assertPublished(A, 4);
            assertThat(f.node(B).following).isEqualTo(A);
        }

        @Test
        void aMemberThatIsNotCaughtUpIsNeitherCountedNorChosen() {
            f = Fixture.healthy(3, 100);
            f.node(A).alive = false;
            f.node(B).wipe();
            f.node(B).lastSeq = 500; // whatever it says, a new storage proves nothing
            var loop = f.loop();
            f.run(loop, 5_000);
            assertThat(f.members.promotedAt).isEmpty();
            assertThat(f.events(ControlEvent.Refused.class)).singleElement()
                    .satisfies(r -> assertThat(r.reason()).contains("has 1").contains(B + " fenced").contains("not caught up"));

            f.node(B).caughtUp = true;
            f.node(B).lastSeq = 100;
            f.node(B).lastEpoch = 3;
            f.run(loop, 500);
            assertPublished(B, 4); // equal positions: the lowest id
        }

        @Test
        void withMinInSyncAllOneAnswerIsEnoughButNotAStaleStorage() {
            f = Fixture.healthy(3, 100);
            f.policy = FailoverPolicy.sync(3);
            f.node(A).alive = false;
            f.node(B).wipe();
            f.node(B).lastSeq = 500;
            var loop = f.loop();
            f.run(loop, 5_000);
            assertPublished(C, 4);
        }

        @Test
        void anOldPrimaryAliveButUnreachableIsNeverASecondPrimaryOfTheNewEpoch() {
            f = Fixture.healthy(3, 100);
            f.node(A).reachable = false; // partitioned from the controller, still primary at 3
            var loop = f.loop();
            f.run(loop, 5_000);
            assertPublished(B, 4);
            assertThat(f.primariesAt(3)).containsExactly(A);
            assertThat(f.members.write(A, 1, 2, true)).as("its replicas are fenced: no acknowledgement").isFalse();
            assertThat(f.members.write(B, 1, 2, true)).isTrue();

            f.node(A).reachable = true;
            f.run(loop, 500);
            assertThat(f.node(A).role).isEqualTo(Role.REPLICA);
            assertThat(f.node(A).following).isEqualTo(B);
            assertPublished(B, 4);
            assertThat(f.members.promotedAt).isEqualTo(Map.of(4L, Set.of(B)));
        }

        @Test
        void aFenceAnswerAboveTheAttemptDropsItAndTheNextAttemptGoesHigher() {
            f = Fixture.healthy(3, 100);
            f.node(A).alive = false;
            f.members.beforeFence((n, e) -> {
                if (n.id.equals(C) && e == 4) n.epoch = 7; // someone else raised it meanwhile
            });
            var loop = f.loop();
            f.run(loop, 5_000);
            var dropped = f.events(ControlEvent.AttemptDropped.class);
            assertThat(dropped).singleElement().satisfies(d -> {
                assertThat(d.epoch()).isEqualTo(4);
                assertThat(d.memberEpoch()).isEqualTo(7);
                assertThat(d.nextEpoch()).isEqualTo(8);
            });
            assertPublished(B, 8);
            assertThat(f.members.promotedAt).isEqualTo(Map.of(8L, Set.of(B)));
        }

        @Test
        void aHigherEpochThanTheTopologysIsAFailoverWithoutWaiting() {
            f = Fixture.healthy(3, 100);
            f.node(C).epoch = 6;
            f.node(C).role = Role.UNKNOWN;
            var loop = f.loop();
            loop.tick();
            assertPublished(A, 7);
        }

        @Test
        void aChosenMemberThatCannotBePromotedIsGivenUpAfterTheTimeout() {
            f = Fixture.healthy(3, 100);
            f.node(A).alive = false;
            f.node(C).lastSeq = 101;
            f.store.afterWrite(s -> s.intent(Fixture.SHARD).ifPresent(i -> {
                if (i.phase() == FailoverIntent.Phase.PROMOTING && i.newPrimary().equals(C)) f.node(C).alive = false;
            }));
            var loop = f.loop();
            f.run(loop, 2_000);
            assertThat(f.events(ControlEvent.PromoteFailed.class)).hasSize(1);
            assertThat(f.members.promotedAt).isEmpty();
            f.node(A).restart(); // two answers are needed for the next attempt
            f.node(A).lastSeq = 101;
            f.run(loop, 3_000);
            assertThat(f.events(ControlEvent.AttemptAbandoned.class)).singleElement()
                    .satisfies(a -> assertThat(a.nextEpoch()).isEqualTo(5));
            assertPublished(A, 5);
        }

        @Test
        void aConcurrentWriterMakesTheStepRetryNotActTwice() {
            f = Fixture.healthy(3, 100);
            f.node(A).alive = false;
            var loop = f.loop();
            f.run(loop, 1_500);
            f.store.touch();
            f.run(loop, 1_000);
            assertPublished(B, 4);
            assertThat(f.members.promotedAt).isEqualTo(Map.of(4L, Set.of(B)));
        }
    }

    @Nested
    class Async {
        private void setUp(long maxLag) {
            f = Fixture.healthy(3, 100);
            f.policy = FailoverPolicy.async(maxLag);
            f.node(B).lastSeq = 90;
            f.node(C).lastSeq = 80;
        }

        @Test
        void promotesTheMostCaughtUpAndReportsTheLossWindow() {
            setUp(1_000);
            var loop = f.loop();
            loop.tick(); // sees the primary's head: 100
            f.node(A).alive = false;
            f.run(loop, 5_000);
            assertPublished(B, 4);
            assertThat(loop.failovers()).singleElement().satisfies(fo -> assertThat(fo.expectedLossRecords()).isEqualTo(10));
            assertThat(f.events(ControlEvent.PrimaryChosen.class)).singleElement()
                    .satisfies(c -> assertThat(c.expectedLossRecords()).isEqualTo(10));
        }

        @Test
        void refusesOverTheLagLimitUnlessForced() {
            setUp(5);
            var loop = f.loop();
            loop.tick();
            f.node(A).alive = false;
            f.run(loop, 5_000);
            assertThat(f.members.promotedAt).isEmpty();
            assertThat(f.events(ControlEvent.Refused.class)).singleElement()
                    .satisfies(r -> assertThat(r.reason()).contains(B + " is 10 records behind").contains("maxAsyncLagRecords=5"));

            f.policy = f.policy.forced(); // an operator's decision: a new controller with force
            var forced = f.loop();
            f.run(forced, 1_000);
            assertPublished(B, 4);
        }

        @Test
        void aMemberReportingLagRaisesTheKnownHead() {
            setUp(1_000);
            f.node(A).alive = false;
            f.node(C).lagRecords = 40; // C heard of seq 120 from the primary
            var loop = f.loop();
            f.run(loop, 5_000);
            assertPublished(B, 4);
            assertThat(loop.failovers()).singleElement().satisfies(fo -> assertThat(fo.expectedLossRecords()).isEqualTo(30));
        }
    }

    @Nested
    class Bootstrap {
        @Test
        void aNewShardGetsTheLowestIdAsPrimaryAtEpochOneAndTheOthersFollow() {
            f = Fixture.fresh();
            var loop = f.loop();
            loop.tick();
            assertPublished(A, 1);
            assertThat(f.node(B).following).isEqualTo(A);
            assertThat(f.node(C).following).isEqualTo(A);
            assertThat(loop.failovers()).as("a bootstrap is not a failover").isEmpty();
            assertThat(f.events(ControlEvent.FailoverCompleted.class)).singleElement()
                    .satisfies(e -> assertThat(e.failover().bootstrap()).isTrue());
        }

        @Test
        void waitsForEveryMemberThenAMajorityAfterTheTimeout() {
            f = Fixture.fresh();
            f.node(A).alive = false;
            var loop = f.loop();
            f.run(loop, 1_000);
            assertThat(f.members.promotedAt).isEmpty();
            f.run(loop, 1_000);
            assertPublished(B, 1);
        }

        @Test
        void noMajorityNoPrimary() {
            f = Fixture.fresh();
            f.node(A).alive = false;
            f.node(B).alive = false;
            var loop = f.loop();
            f.run(loop, 10_000);
            assertThat(f.members.promotedAt).isEmpty();
            assertThat(f.events(ControlEvent.Refused.class)).hasSize(2); // before and after the timeout
        }

        @Test
        void aRestartedClusterWithDataPromotesTheMostCaughtUp() {
            f = Fixture.fresh();
            for (var n : f.members.nodes()) {
                n.epoch = 5;
                n.lastEpoch = 5;
                n.lastSeq = 10;
                n.caughtUp = true;
            }
            f.node(C).lastSeq = 12;
            var loop = f.loop();
            loop.tick();
            assertPublished(C, 6);
        }
    }
}
