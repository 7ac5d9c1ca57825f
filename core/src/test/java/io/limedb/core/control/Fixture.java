package io.limedb.core.control;

import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One shard of three members on fakes, a manual clock, and the events the loop reported. */
final class Fixture {
    static final String SHARD = "shard-0";
    static final String A = "shard-0-0";
    static final String B = "shard-0-1";
    static final String C = "shard-0-2";
    static final long TICK_MS = 100;

    final Faults faults = new Faults();
    final FakeMembers members = new FakeMembers(faults);
    final FakeStore store;
    final List<ControlEvent> events = new ArrayList<>();
    FailoverPolicy policy = FailoverPolicy.sync(2);
    long failureTimeoutMs = 1500;
    boolean automaticFailover = true;
    java.util.Set<String> departing = java.util.Set.of();
    private long nanos = TimeUnit.SECONDS.toNanos(12_345);

    private Fixture(long topologyEpoch) {
        var ms = new ArrayList<Member>();
        int port = 7000;
        for (String id : List.of(A, B, C)) {
            members.add(id, SHARD);
            ms.add(new Member(id, "127.0.0.1:" + port++, id.equals(A) ? Role.PRIMARY : Role.REPLICA));
        }
        store = new FakeStore(ClusterState.of(new Topology(1, 16, List.of(new ShardInfo(SHARD, topologyEpoch, ms)))),
                faults);
        members.checkAgainst(store);
    }

    /** A primary at {@code epoch}, B and C following it; everyone holds {@code seq} records of that epoch. */
    static Fixture healthy(long epoch, long seq) {
        var f = new Fixture(epoch);
        for (var n : f.members.nodes()) {
            n.epoch = epoch;
            n.lastEpoch = epoch;
            n.lastSeq = seq;
            n.role = n.id.equals(A) ? Role.PRIMARY : Role.REPLICA;
            n.following = n.id.equals(A) ? "" : A;
        }
        return f;
    }

    /** A shard that never had a primary: every member new and empty. */
    static Fixture fresh() {
        var f = new Fixture(0);
        for (var n : f.members.nodes()) n.caughtUp = false;
        return f;
    }

    FakeMembers.Node node(String id) {
        return members.node(id);
    }

    ControlLoop loop() {
        return new ControlLoop(members, store, new ControlLoop.Settings(policy, failureTimeoutMs, automaticFailover), () -> nanos,
                events::add);
    }

    void advance(long ms) {
        nanos += TimeUnit.MILLISECONDS.toNanos(ms);
    }

    /** Ticks every {@link #TICK_MS} for {@code ms}. */
    void run(ControlLoop loop, long ms) {
        for (long t = 0; t < ms; t += TICK_MS) {
            loop.tick(departing);
            advance(TICK_MS);
        }
    }

    ShardInfo shard() {
        return store.state().topology().shard(SHARD).orElseThrow();
    }

    List<String> primariesAt(long epoch) {
        return members.nodes().stream().filter(n -> n.alive && n.role == Role.PRIMARY && n.epoch == epoch)
                .map(n -> n.id).toList();
    }

    long highestMemberEpoch() {
        return members.nodes().stream().mapToLong(n -> n.epoch).max().orElseThrow();
    }

    <T extends ControlEvent> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
