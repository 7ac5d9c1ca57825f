package io.limedb.core.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.control.FakeRanges.Pull;
import io.limedb.core.control.FakeRanges.SetOwnership;
import io.limedb.core.control.RangesPort.PullState;
import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding.Phase;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.core.ring.RangeSet;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Resharding through the control loop, on an in-memory store, fake members (one primary per shard) and
 * a fake {@link RangesPort} that records every call, in one log with the store's writes.
 */
class ControlLoopReshardingTest {
    private static final int VNODES = 64;
    private static final List<String> THREE = List.of("shard-0", "shard-1", "shard-2");
    private static final List<String> FOUR = List.of("shard-0", "shard-1", "shard-2", "shard-3");

    private final Faults faults = new Faults();
    private final FakeMembers members = new FakeMembers(faults);
    /** Every RangesPort call and every state written to the store, in order. */
    private final List<Object> log = new ArrayList<>();
    private final FakeRanges ranges = new FakeRanges(log);
    private final List<ControlEvent> events = new ArrayList<>();
    private FakeStore store;
    private ControlLoop loop;
    private long nanos = 1_000_000_000L;

    /** Four shards in the topology, shard-i with one member shard-i-0, primary at epoch 2 + i; {@code ring} is the ring. */
    private void start(List<String> ring) {
        var shards = new ArrayList<ShardInfo>();
        for (int i = 0; i < FOUR.size(); i++) {
            String s = FOUR.get(i);
            var n = members.add(primary(s), s);
            n.role = Role.PRIMARY;
            n.epoch = epoch(s);
            n.lastEpoch = epoch(s);
            shards.add(new ShardInfo(s, epoch(s), List.of(new Member(primary(s), "127.0.0.1:" + (7000 + i), Role.PRIMARY))));
        }
        store = new FakeStore(ClusterState.of(new Topology(1, VNODES, shards, Ownership.of(ring, VNODES))), faults);
        store.afterWrite(log::add);
        loop = new ControlLoop(members, ranges, store, new ControlLoop.Settings(FailoverPolicy.sync(1), 1500), () -> nanos,
                events::add);
    }

    private static String primary(String shard) {
        return shard + "-0";
    }

    private static long epoch(String shard) {
        return 2 + Integer.parseInt(shard.substring("shard-".length()));
    }

    private void tick() {
        loop.tick();
        nanos += 100_000_000L;
    }

    private void tickUntilSettled() {
        for (int i = 0; i < 50 && store.state().resharding() != null; i++) tick();
        assertThat(store.state().resharding()).as("the resharding finished").isNull();
        tick(); // the shards learn the settled ring version
    }

    private Ownership ownership() {
        return store.state().topology().ownership();
    }

    private <T> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Index in the log of the first entry of {@code type} matching {@code p}; fails when there is none. */
    private <T> int first(Class<T> type, Predicate<T> p, String what) {
        for (int i = 0; i < log.size(); i++) {
            if (type.isInstance(log.get(i)) && p.test(type.cast(log.get(i)))) return i;
        }
        throw new AssertionError("no " + what + " in " + log);
    }

    private static Phase phase(ClusterState s, Pair pair) {
        return s.resharding() == null ? null : s.resharding().moves().get(pair).phase();
    }

    @Test
    void reshardingToFourShardsCopiesFlipsAndDropsEachMoveThenSettlesTheRing() {
        start(THREE);
        tick();
        assertThat(log).as("a ring never resharded: the shards serve every key, nobody is told anything").isEmpty();

        loop.reshard(FOUR);
        var plan = ReshardPlan.between(THREE, FOUR, VNODES);
        var recorded = store.state();
        assertThat(recorded.topology().ownership()).isEqualTo(Ownership.of(THREE, VNODES).begin(FOUR));
        assertThat(recorded.resharding().moves().keySet()).containsExactlyElementsOf(plan.moves().keySet());
        recorded.resharding().moves().forEach((pair, m) -> {
            assertThat(m.phase()).isEqualTo(Phase.COPYING);
            assertThat(m.ranges()).isEqualTo(plan.moves().get(pair).size());
        });
        assertThat(events(ControlEvent.ReshardingStarted.class)).singleElement()
                .satisfies(e -> assertThat(e.moves()).isEqualTo(plan.moves().size()));
        assertThat(log).as("recorded only; the ticks do the work").containsExactly(recorded);
        log.clear();

        tickUntilSettled();

        // 1. Before anything moves, every shard of both rings is told what it owns now (the new one: nothing).
        var begun = Ownership.of(THREE, VNODES).begin(FOUR);
        var told = log.subList(0, FOUR.size());
        assertThat(told).allSatisfy(c -> assertThat(c).isInstanceOfSatisfying(SetOwnership.class, so -> {
            String shard = so.member().substring(0, so.member().length() - 2);
            assertThat(so.epoch()).isEqualTo(epoch(shard));
            assertThat(so.ringVersion()).isEqualTo(1);
            assertThat(so.ranges()).as(shard).isEqualTo(begun.rangesOf(shard));
            assertThat(so.drop()).isEqualTo(RangeSet.empty());
        }));
        assertThat(told.stream().map(c -> ((SetOwnership) c).member()))
                .containsExactlyInAnyOrder(FOUR.stream().map(ControlLoopReshardingTest::primary).toArray(String[]::new));
        assertThat(((SetOwnership) told.stream().filter(c -> ((SetOwnership) c).member().equals("shard-3-0")).findFirst()
                .orElseThrow()).ranges()).isEqualTo(RangeSet.empty());

        // 2. Each move in turn: copy, record FLIPPING, the source stops owning, the target finishes, publish, drop.
        var before = begun;
        int lastDone = FOUR.size() - 1;
        for (var e : plan.moves().entrySet()) {
            Pair pair = e.getKey();
            RangeSet moving = e.getValue();
            String src = primary(pair.source()), dst = primary(pair.target());
            var after = before.flip(pair);
            long v = after.version();
            assertThat(v).isEqualTo(before.version() + 1);

            var pulls = ranges.calls(Pull.class).stream().filter(p -> p.move().startsWith(pair + "@")).toList();
            assertThat(pulls).as("one copy and one finishing pull for %s", pair).hasSize(2);
            assertThat(pulls).allSatisfy(p -> {
                assertThat(p.target()).isEqualTo(dst);
                assertThat(p.targetEpoch()).isEqualTo(epoch(pair.target()));
                assertThat(p.source()).isEqualTo(src);
                assertThat(p.sourceEpoch()).isEqualTo(epoch(pair.source()));
                assertThat(p.ranges()).isEqualTo(moving);
            });
            int copy = first(Pull.class, p -> p.move().startsWith(pair + "@") && !p.finishing(), "copy of " + pair);
            assertThat(copy).as("moves go one at a time").isGreaterThan(lastDone);
            int flipping = first(ClusterState.class, s -> phase(s, pair) == Phase.FLIPPING, pair + " recorded flipping");
            int stop = first(SetOwnership.class, so -> so.member().equals(src) && so.ringVersion() == v && so.drop().isEmpty(),
                    "the source of " + pair + " told it no longer owns the ranges");
            var stopCall = (SetOwnership) log.get(stop);
            assertThat(stopCall.ranges()).isEqualTo(after.rangesOf(pair.source()))
                    .isEqualTo(before.rangesOf(pair.source()).minus(moving));
            assertThat(stopCall.epoch()).isEqualTo(epoch(pair.source()));
            int finish = first(Pull.class, p -> p.move().startsWith(pair + "@") && p.finishing(), "finishing pull of " + pair);
            var finishCall = (Pull) log.get(finish);
            assertThat(finishCall.finishAtSeq()).as("catches up to where the source stopped").isEqualTo(stopCall.answeredSeq());
            assertThat(finishCall.ownVersion()).isEqualTo(v);
            assertThat(finishCall.ownAfter()).isEqualTo(after.rangesOf(pair.target()))
                    .isEqualTo(before.rangesOf(pair.target()).union(moving));
            int published = first(ClusterState.class, s -> s.topology().ownership().flipped().contains(pair),
                    "ownership with " + pair + " flipped");
            var pub = (ClusterState) log.get(published);
            assertThat(pub.topology().ownership()).isEqualTo(after);
            assertThat(phase(pub, pair)).isEqualTo(Phase.FLIPPED);
            int drop = first(SetOwnership.class, so -> so.member().equals(src) && !so.drop().isEmpty(), "drop on " + src);
            var dropCall = (SetOwnership) log.get(drop);
            assertThat(dropCall.drop()).isEqualTo(moving);
            assertThat(dropCall.ranges()).isEqualTo(after.rangesOf(pair.source()));
            assertThat(dropCall.ringVersion()).isEqualTo(v);
            int done = first(ClusterState.class, s -> phase(s, pair) == Phase.DONE, pair + " recorded done");
            assertThat(List.of(copy, flipping, stop, finish, published, drop, done)).as("order of the steps of %s", pair)
                    .isSorted();
            assertThat(List.of(copy, flipping, stop, finish, published, drop, done)).doesNotHaveDuplicates();
            before = after;
            lastDone = done;
        }
        assertThat(ranges.calls(Pull.class)).hasSize(2 * plan.moves().size());

        // 3. The new ring is the ring, one version later, and every shard learns so.
        var settled = ownership();
        assertThat(settled.resharding()).isFalse();
        assertThat(settled.shards()).isEqualTo(FOUR);
        assertThat(settled.version()).isEqualTo(1 + plan.moves().size() + 1);
        assertThat(settled).isEqualTo(before.settle());
        int settledAt = first(ClusterState.class, s -> s.resharding() == null, "the settled ring");
        assertThat(settledAt).isGreaterThan(lastDone);
        for (String s : FOUR) {
            var last = ranges.owned.get(primary(s));
            assertThat(last.ringVersion()).as(s).isEqualTo(settled.version());
            assertThat(last.ranges()).as(s).isEqualTo(settled.rangesOf(s)).isEqualTo(Ownership.of(FOUR, VNODES).rangesOf(s));
        }
        assertThat(events(ControlEvent.MoveCaughtUp.class)).hasSize(plan.moves().size());
        assertThat(events(ControlEvent.MoveFlipped.class)).hasSize(plan.moves().size());
        assertThat(events(ControlEvent.MoveDone.class)).hasSize(plan.moves().size());
        assertThat(events(ControlEvent.ReshardingCompleted.class)).singleElement().satisfies(c -> {
            assertThat(c.shards()).isEqualTo(FOUR);
            assertThat(c.epoch()).isEqualTo(settled.version());
            assertThat(c.ranges()).isEqualTo(plan.rangeCount());
        });
        assertThat(events(ControlEvent.ReshardingWaits.class)).isEmpty();

        int calls = log.size();
        tick();
        tick();
        assertThat(log).as("a settled ring, everyone told: quiet").hasSize(calls);
    }

    @Test
    void aSecondReshardToAnotherRingWhileOneRunsIsRefused() {
        start(THREE);
        // The first move completes; the second's copy goes on.
        store.afterWrite(s -> {
            log.add(s);
            if (s.resharding() != null && s.resharding().moves().values().stream().anyMatch(m -> m.phase() == Phase.DONE)) {
                ranges.pullAnswer = PullState.COPYING;
            }
        });
        loop.reshard(FOUR);
        int total = store.state().resharding().totalRanges();
        assertThatThrownBy(() -> loop.reshard(List.of("shard-0", "shard-1")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("in progress")
                .hasMessageContaining(THREE + " to " + FOUR)
                .hasMessageContaining("0 of " + total + " ranges moved");

        tick();
        var r = store.state().resharding();
        var firstMove = r.moves().keySet().iterator().next();
        assertThat(r.moves().get(firstMove).phase()).isEqualTo(Phase.DONE);
        assertThat(r.moves().values().stream().filter(m -> m.phase() != Phase.DONE)).allMatch(m -> m.phase() == Phase.COPYING);
        long version = store.version();
        assertThatThrownBy(() -> loop.reshard(List.of("shard-0", "shard-1", "shard-3")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("in progress")
                .hasMessageContaining(r.moves().get(firstMove).ranges() + " of " + total + " ranges moved");
        assertThat(store.version()).as("nothing recorded").isEqualTo(version);

        loop.reshard(FOUR);
        assertThat(store.version()).as("already moving there: nothing to do").isEqualTo(version);
        assertThat(events(ControlEvent.ReshardingStarted.class)).hasSize(1);

        ranges.pullAnswer = null;
        store.afterWrite(log::add);
        tickUntilSettled();
        assertThat(ownership().shards()).isEqualTo(FOUR);
    }

    @Test
    void aFailedPullLeavesTheMoveCopyingUntilAPullSucceeds() {
        start(THREE);
        ranges.pullAnswer = PullState.FAILED;
        ranges.pullError = "source shard-0-0 went away";
        loop.reshard(FOUR);
        for (int i = 0; i < 5; i++) tick();

        var state = store.state();
        assertThat(state.resharding().moves().values()).allSatisfy(m -> assertThat(m.phase()).isEqualTo(Phase.COPYING));
        assertThat(state.topology().ownership()).isEqualTo(Ownership.of(THREE, VNODES).begin(FOUR));
        var firstMove = state.resharding().moves().keySet().iterator().next();
        assertThat(ranges.calls(Pull.class)).hasSizeGreaterThanOrEqualTo(5).allSatisfy(p -> {
            assertThat(p.finishing()).isFalse();
            assertThat(p.move()).startsWith(firstMove + "@");
        });
        assertThat(ranges.calls(SetOwnership.class)).allSatisfy(so -> {
            assertThat(so.ringVersion()).isEqualTo(1);
            assertThat(so.drop()).isEqualTo(RangeSet.empty());
        });
        assertThat(events(ControlEvent.ReshardingWaits.class)).as("reported once").singleElement()
                .satisfies(w -> assertThat(w.why()).contains(firstMove.toString()).contains("failed")
                        .contains("source shard-0-0 went away"));
        assertThat(events(ControlEvent.MoveCaughtUp.class)).isEmpty();

        ranges.pullAnswer = null;
        tickUntilSettled();
        assertThat(ownership().shards()).isEqualTo(FOUR);
        assertThat(ownership().resharding()).isFalse();
    }

    @Test
    void aShardWithoutAHealthyPrimaryHoldsTheResharding() {
        start(THREE);
        members.node("shard-3-0").reachable = false;
        loop.reshard(FOUR);
        for (int i = 0; i < 3; i++) tick();
        assertThat(ranges.calls(SetOwnership.class)).as("nobody is told anything").isEmpty();
        assertThat(ranges.calls(Pull.class)).as("nothing is copied").isEmpty();
        assertThat(events(ControlEvent.ReshardingWaits.class)).singleElement()
                .satisfies(w -> assertThat(w.why()).contains("shard-3"));

        members.node("shard-3-0").reachable = true;
        tickUntilSettled();
        assertThat(ownership().shards()).isEqualTo(FOUR);
    }

    @Test
    void removingAShardMovesItsRangesToTheOthersAndLeavesItOwningNothing() {
        start(FOUR);
        loop.reshard(THREE);
        var plan = ReshardPlan.between(FOUR, THREE, VNODES);
        assertThat(store.state().resharding().moves().keySet()).allSatisfy(p -> assertThat(p.source()).isEqualTo("shard-3"));
        tickUntilSettled();

        var settled = ownership();
        assertThat(settled.shards()).isEqualTo(THREE);
        assertThat(settled.version()).isEqualTo(1 + plan.moves().size() + 1);
        assertThat(ranges.owned.get("shard-3-0").ranges()).as("what shard-3 was last told it owns").isEqualTo(RangeSet.empty());
        var dropped = ranges.calls(SetOwnership.class).stream().filter(so -> so.member().equals("shard-3-0"))
                .map(SetOwnership::drop).reduce(RangeSet.empty(), RangeSet::union);
        assertThat(dropped).as("shard-3 dropped all it owned").isEqualTo(Ownership.of(FOUR, VNODES).rangesOf("shard-3"));
        for (String s : THREE) {
            assertThat(ranges.owned.get(primary(s)).ranges()).as(s).isEqualTo(Ownership.of(THREE, VNODES).rangesOf(s));
            assertThat(ranges.owned.get(primary(s)).ringVersion()).as(s).isEqualTo(settled.version());
        }
        loop.removeShard("shard-3");
        assertThat(store.state().topology().shard("shard-3")).isEmpty();
    }
}
