package io.limedb.core.control;

import static io.limedb.core.control.ReshardWorld.FOUR;
import static io.limedb.core.control.ReshardWorld.THREE;
import static io.limedb.core.control.ReshardWorld.VNODES;
import static io.limedb.core.control.ReshardWorld.primary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.control.FakeRanges.Pull;
import io.limedb.core.control.FakeRanges.SetOwnership;
import io.limedb.core.control.RangesPort.PullState;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding.Phase;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.core.ring.RangeSet;
import java.util.HashSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A resharding rolled back half way (reshard to the ring it moves from): rings swapped, the flipped
 * pairs complemented and reversed, two ring versions up; the moves that had flipped move back, the
 * others are only cleaned (their targets drop what they copied); it settles on the old ring. On
 * {@link ShardData}, which checks after every call and store write that no two shards own a position
 * and the published owner holds the data.
 */
class ReshardingRollbackTest {
    private final ReshardWorld w = new ReshardWorld(THREE);
    private final ReshardPlan plan = ReshardPlan.between(THREE, FOUR, VNODES);
    private final Pair firstMove = plan.moves().keySet().iterator().next();

    private static Pair reversed(Pair p) {
        return new Pair(p.target(), p.source());
    }

    private static Phase phase(ClusterState s, Pair pair) {
        return s.resharding() == null ? null : s.resharding().moves().get(pair).phase();
    }

    /** The ownership a rollback of {@code o} records. */
    private Ownership rolledBack(Ownership o) {
        var flipped = new HashSet<Pair>();
        for (Pair p : plan.moves().keySet()) if (!o.flipped().contains(p)) flipped.add(reversed(p));
        return new Ownership(o.version() + 2, VNODES, o.next(), o.shards(), flipped);
    }

    /** Rolls back and checks what is recorded: the ownership, each move's phase, and that no owner changed. */
    private ClusterState rollBack(ControlLoop loop) {
        var before = w.store.state();
        var o = before.topology().ownership();
        loop.reshard(THREE);
        var after = w.store.state();
        assertThat(after.topology().ownership()).isEqualTo(rolledBack(o));
        assertThat(after.resharding().moves().keySet()).containsExactlyInAnyOrderElementsOf(
                plan.moves().keySet().stream().map(ReshardingRollbackTest::reversed).toList());
        for (Pair p : plan.moves().keySet()) {
            var was = phase(before, p);
            boolean hadFlipped = was == Phase.FLIPPED || was == Phase.DONE;
            assertThat(phase(after, reversed(p))).as("%s, which was %s", reversed(p), was)
                    .isEqualTo(hadFlipped ? Phase.COPYING : Phase.FLIPPED);
        }
        var rnd = new Random(7);
        var a = after.topology().ownership();
        int changed = 0;
        for (int i = 0; i < 10_000; i++) {
            long p = rnd.nextLong();
            if (!o.ownerOf(p).equals(a.ownerOf(p))) changed++;
        }
        assertThat(changed).as("positions whose owner the rollback changed").isZero();
        return after;
    }

    @Test
    void aRollbackAfterTheFirstMoveFlippedMovesItBackAndSettlesOnTheOldRing() {
        w.afterWrite = s -> {
            if (phase(s, firstMove) == Phase.FLIPPED) throw new Faults.Crash("stopped once " + firstMove + " flipped");
        };
        var first = w.loop();
        first.reshard(FOUR);
        assertThatThrownBy(() -> {
            for (int i = 0; i < 5; i++) w.tick(first);
        }).isInstanceOf(Faults.Crash.class);
        w.afterWrite = s -> { };
        var flipped = w.store.state();
        assertThat(flipped.topology().ownership().flipped()).containsExactly(firstMove);
        var moving = plan.moves().get(firstMove);
        assertThat(w.shards.ofShard(firstMove.target()).owned).as("the target owns the moved ranges")
                .isEqualTo(moving);

        var loop = w.loop();
        var rolled = rollBack(loop);
        int calls = w.shards.log.size();
        w.settle(loop);

        w.assertSettledOn(THREE, rolled.topology().ownership().version());
        var after = w.shards.log.subList(calls, w.shards.log.size());
        var back = reversed(firstMove);
        assertThat(after.stream().filter(c -> c instanceof Pull p && p.move().startsWith(back + "@")))
                .as("the flipped move's ranges are pulled back").isNotEmpty()
                .allSatisfy(c -> assertThat(((Pull) c).ranges()).isEqualTo(moving));
        for (Pair p : plan.moves().keySet()) {
            if (p.equals(firstMove)) continue;
            assertThat(after.stream().filter(c -> c instanceof SetOwnership so && so.member().equals(primary(p.target()))
                    && so.drop().equals(plan.moves().get(p)))).as("%s drops what it may have copied for %s", p.target(), p)
                    .isNotEmpty();
        }
    }

    @Test
    void aRollbackWhileAMoveCopiesMakesItsTargetDropThePartialCopy() {
        var moves = plan.moves().keySet().stream().toList();
        Pair second = moves.get(1);
        w.afterWrite = s -> {
            if (phase(s, firstMove) == Phase.DONE) w.shards.copyAnswer = PullState.COPYING;
        };
        var loop = w.loop();
        loop.reshard(FOUR);
        for (int i = 0; i < 3; i++) w.tick(loop);
        w.afterWrite = s -> { };
        assertThat(phase(w.store.state(), firstMove)).isEqualTo(Phase.DONE);
        assertThat(phase(w.store.state(), second)).isEqualTo(Phase.COPYING);
        var partial = plan.moves().get(second);
        assertThat(ShardData.intersect(w.shards.ofShard(second.target()).data, partial)).as("a partial copy")
                .isEqualTo(partial);

        var rolled = rollBack(loop);
        w.shards.copyAnswer = null;
        w.settle(loop);

        w.assertSettledOn(THREE, rolled.topology().ownership().version());
        assertThat(w.shards.ofShard("shard-3").data).as("shard-3 dropped its copies").isEqualTo(RangeSet.empty());
    }

    @Test
    void aRollbackWhileAMoveFlipsGivesTheSourceItsRangesBackTwoVersionsUp() {
        w.shards.finishAnswer = PullState.FAILED;
        var loop = w.loop();
        loop.reshard(FOUR);
        w.tick(loop);
        w.tick(loop);
        var flipping = w.store.state();
        assertThat(phase(flipping, firstMove)).isEqualTo(Phase.FLIPPING);
        long v = flipping.topology().ownership().version();
        var moving = plan.moves().get(firstMove);
        var source = w.shards.ofShard(firstMove.source());
        assertThat(source.version).as("the source was told the next version").isEqualTo(v + 1);
        assertThat(ShardData.intersect(source.owned, moving)).as("without the ranges: the write hold").isEqualTo(RangeSet.empty());

        var rolled = rollBack(loop);
        assertThat(rolled.topology().ownership().version()).isEqualTo(v + 2);
        int calls = w.shards.log.size();
        w.tick(loop);

        var toldBack = w.shards.log.subList(calls, w.shards.log.size()).stream()
                .filter(c -> c instanceof SetOwnership so && so.member().equals(source.id)).map(c -> (SetOwnership) c)
                .findFirst().orElseThrow();
        assertThat(toldBack.ringVersion()).isEqualTo(v + 2);
        assertThat(moving.minus(toldBack.ranges())).as("it owns the ranges again").isEqualTo(RangeSet.empty());
        assertThat(moving.minus(source.owned)).isEqualTo(RangeSet.empty());

        w.shards.finishAnswer = null;
        w.settle(loop);
        w.assertSettledOn(THREE, v + 2);
    }
}
