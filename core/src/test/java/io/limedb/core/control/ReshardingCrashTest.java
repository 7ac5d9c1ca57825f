package io.limedb.core.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.RangeSet;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A controller that dies at any step of a resharding (before or after any store write or
 * {@link RangesPort} call takes effect) and is replaced by a new instance on the same store and shards
 * finishes it, and at no moment, crashed or not, do two shards own a position, or the topology name an
 * owner that does not hold the data (see {@link ShardData}).
 */
class ReshardingCrashTest {
    static final int VNODES = 64;
    static final List<String> THREE = List.of("shard-0", "shard-1", "shard-2");
    static final List<String> FOUR = List.of("shard-0", "shard-1", "shard-2", "shard-3");
    private static final int MAX_TICKS = 60;

    record Scenario(String name, List<String> from, List<String> to) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Scenario> scenarios() {
        return List.of(new Scenario("3 -> 4", THREE, FOUR), new Scenario("4 -> 3", FOUR, THREE));
    }

    /** Four shards in the topology (one member each, primary at epoch 2 + i), {@code ring} the ring at version 1. */
    static final class World {
        final Faults faults = new Faults();
        final FakeMembers members = new FakeMembers(new Faults()); // member calls do not crash here
        final FakeStore store;
        final ShardData shards;
        final List<ControlEvent> events = new ArrayList<>();
        long nanos = 1_000_000_000L;

        World(List<String> ring) {
            var infos = new ArrayList<ShardInfo>();
            var first = Ownership.of(ring, VNODES);
            ClusterState[] published = {null};
            shards = new ShardData(faults, () -> published[0]);
            for (int i = 0; i < FOUR.size(); i++) {
                String s = FOUR.get(i);
                var n = members.add(primary(s), s);
                n.role = Role.PRIMARY;
                n.epoch = epoch(s);
                n.lastEpoch = epoch(s);
                infos.add(new ShardInfo(s, epoch(s), List.of(new Member(primary(s), "127.0.0.1:" + (7000 + i), Role.PRIMARY))));
                // The ring's shards were told what they own (an earlier resharding); a shard outside it never was.
                boolean inRing = ring.contains(s);
                shards.add(primary(s), s, epoch(s), inRing ? 1 : 0, inRing ? first.rangesOf(s) : RangeSet.empty());
            }
            published[0] = ClusterState.of(new Topology(1, VNODES, infos, first));
            store = new FakeStore(published[0], faults);
            store.afterWrite(st -> {
                published[0] = st;
                shards.check("after a store write (" + st.topology().ownership() + ")");
            });
            shards.check("at the start");
        }

        ControlLoop loop() {
            return new ControlLoop(members, shards, store, new ControlLoop.Settings(FailoverPolicy.sync(1), 1500),
                    () -> nanos, events::add);
        }

        void tick(ControlLoop loop) {
            loop.tick();
            nanos += 100_000_000L;
        }

        /** Reshards to {@code to} and ticks until settled, then a few more ticks (the shards learn the settled version). */
        void finish(ControlLoop loop, List<String> to) {
            loop.reshard(to);
            for (int i = 0; i < MAX_TICKS && store.state().resharding() != null; i++) tick(loop);
            assertThat(store.state().resharding()).as("the resharding finished; %s", shards.history()).isNull();
            for (int i = 0; i < 3; i++) tick(loop);
        }

        Ownership ownership() {
            return store.state().topology().ownership();
        }
    }

    static String primary(String shard) {
        return shard + "-0";
    }

    static long epoch(String shard) {
        return 2 + Integer.parseInt(shard.substring("shard-".length()));
    }

    /** Every operation of a clean run, crashed before and after its effect. */
    static Stream<Arguments> crashes() {
        return scenarios().stream().flatMap(s -> {
            var clean = new World(s.from());
            clean.finish(clean.loop(), s.to());
            assertSettled(clean, s);
            int ops = clean.faults.ops();
            assertThat(ops).as("a clean run of %s does something", s).isGreaterThan(10);
            return IntStream.rangeClosed(1, ops).boxed()
                    .flatMap(k -> Stream.of(Arguments.of(s, k, "before"), Arguments.of(s, k, "after")));
        });
    }

    @ParameterizedTest(name = "{0}: crash {2} operation {1}")
    @MethodSource("crashes")
    void aNewControllerFinishesAReshardingACrashedOneStarted(Scenario s, int k, String when) {
        var w = new World(s.from());
        w.faults.crashAt(k, when.equals("after"));
        var first = w.loop();
        boolean crashed = false;
        try {
            first.reshard(s.to());
            for (int i = 0; i < MAX_TICKS; i++) w.tick(first);
        } catch (Faults.Crash c) {
            crashed = true;
        }
        assertThat(crashed).as("the first controller reached operation %d", k).isTrue();
        w.faults.off();

        w.finish(w.loop(), s.to());

        assertSettled(w, s);
    }

    private static void assertSettled(World w, Scenario s) {
        var o = w.ownership();
        assertThat(w.store.state().resharding()).isNull();
        assertThat(o.resharding()).isFalse();
        assertThat(o.shards()).isEqualTo(s.to());
        assertThat(o.version()).as("the ring version grew").isGreaterThan(1);
        var versions = w.store.history().stream().map(st -> st.topology().ownership().version()).toList();
        assertThat(versions).as("published ring versions never go back").isSortedAccordingTo(Long::compare);
        for (String shard : FOUR) {
            var m = w.shards.ofShard(shard);
            assertThat(m.owned).as("what %s owns", shard).isEqualTo(o.rangesOf(shard));
            assertThat(m.data).as("what %s holds: what it owns, the rest dropped", shard).isEqualTo(m.owned);
            if (s.to().contains(shard)) assertThat(m.version).as("%s knows the settled ring", shard).isEqualTo(o.version());
        }
        assertThat(o.rangesOf(s.to().get(0))).isEqualTo(Ownership.of(s.to(), VNODES).rangesOf(s.to().get(0)));
        assertThat(w.shards.checks).as("invariants checked").isGreaterThan(10);
    }
}
