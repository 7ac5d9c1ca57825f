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
import java.util.function.Consumer;

/**
 * Four shards in the topology, shard-i with one member shard-i-0, primary at epoch 2 + i, on an
 * in-memory store and {@link ShardData}; a given ring at version 1, whose shards were told what they
 * own (an earlier resharding) and hold that data. Store writes and RangesPort calls count in
 * {@link #faults}; member calls never crash.
 */
final class ReshardWorld {
    static final int VNODES = 64;
    static final List<String> THREE = List.of("shard-0", "shard-1", "shard-2");
    static final List<String> FOUR = List.of("shard-0", "shard-1", "shard-2", "shard-3");
    static final int MAX_TICKS = 60;

    final Faults faults = new Faults();
    final FakeMembers members = new FakeMembers(new Faults());
    final FakeStore store;
    final ShardData shards;
    final List<ControlEvent> events = new ArrayList<>();
    /** Runs after every store write, after the invariants were checked. */
    Consumer<ClusterState> afterWrite = s -> { };
    private long nanos = 1_000_000_000L;

    ReshardWorld(List<String> ring) {
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
            // A shard outside the ring was never told anything (the node would serve every key; the fake: none).
            boolean inRing = ring.contains(s);
            shards.add(primary(s), s, epoch(s), inRing ? 1 : 0, inRing ? first.rangesOf(s) : RangeSet.empty());
        }
        published[0] = ClusterState.of(new Topology(1, VNODES, infos, first));
        store = new FakeStore(published[0], faults);
        store.afterWrite(st -> {
            published[0] = st;
            shards.check("after a store write (" + st.topology().ownership() + ")");
            afterWrite.accept(st);
        });
        shards.check("at the start");
    }

    static String primary(String shard) {
        return shard + "-0";
    }

    static long epoch(String shard) {
        return 2 + Integer.parseInt(shard.substring("shard-".length()));
    }

    ControlLoop loop() {
        return new ControlLoop(members, shards, store, new ControlLoop.Settings(FailoverPolicy.sync(1), 1500),
                () -> nanos, events::add);
    }

    void tick(ControlLoop loop) {
        loop.tick();
        nanos += 100_000_000L;
    }

    /** Ticks until no resharding is in progress, then a few more (the shards learn the settled version). */
    void settle(ControlLoop loop) {
        for (int i = 0; i < MAX_TICKS && store.state().resharding() != null; i++) tick(loop);
        assertThat(store.state().resharding()).as("the resharding finished; %s", shards.history()).isNull();
        for (int i = 0; i < 3; i++) tick(loop);
    }

    /** Reshards to {@code to} and ticks until settled. */
    void finish(ControlLoop loop, List<String> to) {
        loop.reshard(to);
        settle(loop);
    }

    Ownership ownership() {
        return store.state().topology().ownership();
    }

    /**
     * The ring is {@code ring}, settled above {@code version}, and every shard owns exactly its part
     * of it, knows the settled version, and holds the data of what it owns and nothing else.
     */
    void assertSettledOn(List<String> ring, long version) {
        var o = ownership();
        assertThat(store.state().resharding()).isNull();
        assertThat(o.resharding()).isFalse();
        assertThat(o.shards()).isEqualTo(ring);
        assertThat(o.version()).as("the ring version grew").isGreaterThan(version);
        var versions = store.history().stream().map(st -> st.topology().ownership().version()).toList();
        assertThat(versions).as("published ring versions never go back").isSortedAccordingTo(Long::compare);
        for (String shard : FOUR) {
            var m = shards.ofShard(shard);
            assertThat(m.owned).as("what %s owns", shard).isEqualTo(o.rangesOf(shard))
                    .isEqualTo(ring.contains(shard) ? Ownership.of(ring, VNODES).rangesOf(shard) : RangeSet.empty());
            assertThat(m.data).as("what %s holds: what it owns, the rest dropped", shard).isEqualTo(m.owned);
            if (ring.contains(shard)) assertThat(m.version).as("%s knows the settled ring", shard).isEqualTo(o.version());
        }
    }
}
