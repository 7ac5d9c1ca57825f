package io.limedb.core.control;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** An in-memory {@link TopologyStore}: compare-and-set on a counter; keeps every state written. */
final class FakeStore implements TopologyStore {
    private final Faults faults;
    private long version = 1;
    private ClusterState state;
    private final List<ClusterState> history = new ArrayList<>();
    private Consumer<ClusterState> afterWrite = s -> { };

    FakeStore(ClusterState initial, Faults faults) {
        this.state = initial;
        this.faults = faults;
        history.add(initial);
    }

    @Override
    public synchronized Versioned read() {
        return new Versioned(Long.toString(version), state);
    }

    @Override
    public synchronized boolean compareAndSet(String expectedVersion, ClusterState next) {
        return faults.op("store write", () -> {
            if (!expectedVersion.equals(Long.toString(version))) return false;
            version++;
            state = next;
            history.add(next);
            afterWrite.accept(next);
            return true;
        });
    }

    /** Another writer: the next compare-and-set of anyone who read before fails. */
    synchronized void touch() {
        version++;
    }

    void afterWrite(Consumer<ClusterState> hook) {
        afterWrite = hook;
    }

    ClusterState state() {
        return state;
    }

    long version() {
        return version;
    }

    List<ClusterState> history() {
        return List.copyOf(history);
    }

    /** Whether a failover of {@code shard} at {@code epoch} was ever recorded (fencing or promoting). */
    boolean recorded(String shard, long epoch) {
        return history.stream().anyMatch(s -> s.intent(shard).map(i -> i.epoch() == epoch).orElse(false));
    }

    /** Whether promoting {@code member} of {@code shard} at {@code epoch} was ever recorded. */
    boolean recordedPromotion(String shard, long epoch, String member) {
        return history.stream().anyMatch(s -> s.intent(shard)
                .map(i -> i.epoch() == epoch && i.phase() == FailoverIntent.Phase.PROMOTING
                        && i.newPrimary().equals(member)).orElse(false));
    }
}
