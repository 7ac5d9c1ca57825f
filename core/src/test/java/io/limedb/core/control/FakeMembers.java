package io.limedb.core.control;

import io.limedb.core.failover.MemberReport;
import io.limedb.core.topology.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Simulated shard members that obey the node semantics the loop relies on (see {@link MembersPort}):
 * epochs, roles, log positions, storage ids, caught-up flags, and reachability from the controller.
 * Also checks that nothing is fenced or promoted at an epoch the store has not recorded.
 */
final class FakeMembers implements MembersPort {

    /** One member. Fields are set directly by tests. */
    static final class Node {
        final String id;
        final String shard;
        Role role = Role.UNKNOWN;
        long epoch;
        long lastEpoch;
        long lastSeq;
        String storageId;
        boolean caughtUp = true;
        String following = "";
        long lagRecords;
        /** As a primary: serving (not waiting out a lease) and the replicas it counts in sync. */
        boolean serving = true;
        int inSyncReplicas = 2;
        /** Reachable by the controller (a partitioned member is alive but not reachable). */
        boolean reachable = true;
        /** Dead: reachable by nobody, does nothing. */
        boolean alive = true;
        private int storages = 1;

        Node(String id, String shard) {
            this.id = id;
            this.shard = shard;
            this.storageId = id + "/s1";
        }

        MemberReport report() {
            return new MemberReport(id, role, epoch, lastEpoch, lastSeq, storageId, caughtUp, following, lagRecords, 0,
                    role == Role.PRIMARY && serving, role == Role.PRIMARY ? inSyncReplicas : 0);
        }

        /** Its data directory was wiped and it restarted: empty, new storage, not caught up. */
        void wipe() {
            role = Role.UNKNOWN;
            epoch = 0;
            lastEpoch = 0;
            lastSeq = 0;
            following = "";
            caughtUp = false;
            storageId = id + "/s" + (++storages);
        }

        /** Restarted with its data: it keeps epoch and log, and waits to be told. */
        void restart() {
            alive = true;
            role = Role.UNKNOWN;
            following = "";
        }
    }

    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Faults faults;
    private FakeStore store;
    private BiConsumer<Node, Long> beforeFence = (n, e) -> { };
    final List<String> calls = new ArrayList<>();
    final Map<Long, Set<String>> promotedAt = new HashMap<>();
    final List<String> violations = new ArrayList<>();

    FakeMembers(Faults faults) {
        this.faults = faults;
    }

    Node add(String id, String shard) {
        var n = new Node(id, shard);
        nodes.put(id, n);
        return n;
    }

    Node node(String id) {
        return nodes.get(id);
    }

    List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    void checkAgainst(FakeStore s) {
        this.store = s;
    }

    void beforeFence(BiConsumer<Node, Long> hook) {
        this.beforeFence = hook;
    }

    @Override
    public MemberReport status(String id) {
        return reach(id).report();
    }

    @Override
    public MemberReport fence(String id, long e) {
        var n = reach(id);
        return faults.op("fence " + id + " at " + e, () -> {
            calls.add("fence " + id + " " + e);
            if (store != null && !store.recorded(n.shard, e)) violations.add("fenced " + id + " at unrecorded epoch " + e);
            beforeFence.accept(n, e);
            if (e > n.epoch) {
                n.epoch = e;
                n.role = Role.UNKNOWN; // a primary steps down, a replica stops following
                n.following = "";
            }
            return n.report();
        });
    }

    @Override
    public MemberReport promote(String id, long e) {
        var n = reach(id);
        return faults.op("promote " + id + " at " + e, () -> {
            calls.add("promote " + id + " " + e);
            if (n.role == Role.PRIMARY && n.epoch == e) return n.report();
            if (!(n.epoch < e || (n.epoch == e && n.role != Role.PRIMARY && n.role != Role.REPLICA))) {
                throw new MemberCallException(id, "STALE_EPOCH: cannot be promoted at epoch " + e + ", it is "
                        + n.role + " at epoch " + n.epoch);
            }
            if (store != null && !store.recordedPromotion(n.shard, e, id)) {
                violations.add("promoted " + id + " at epoch " + e + " without recording it");
            }
            n.epoch = e;
            n.role = Role.PRIMARY;
            n.following = "";
            promotedAt.computeIfAbsent(e, k -> new TreeSet<>()).add(id);
            return n.report();
        });
    }

    @Override
    public MemberReport follow(String id, String primary, long e) {
        var n = reach(id);
        return faults.op("follow " + id + " " + primary + " at " + e, () -> {
            calls.add("follow " + id + " " + primary + " " + e);
            if (e < n.epoch || (e == n.epoch && n.role == Role.PRIMARY)) {
                throw new MemberCallException(id, "STALE_EPOCH: cannot follow at epoch " + e + ", it is "
                        + n.role + " at epoch " + n.epoch);
            }
            n.epoch = e;
            n.role = Role.REPLICA;
            n.following = primary;
            return n.report();
        });
    }

    private Node reach(String id) {
        var n = nodes.get(id);
        if (n == null) throw new IllegalArgumentException("no member " + id);
        if (!n.alive || !n.reachable) throw new MemberCallException(id, "unreachable");
        return n;
    }

    /**
     * A write of {@code records} on {@code primaryId}: accepted only by a primary; in sync mode only
     * with minInSync-1 replicas following it at its epoch, which then hold it too. Returns whether
     * it was acknowledged.
     */
    boolean write(String primaryId, long records, int minInSync, boolean sync) {
        var p = nodes.get(primaryId);
        if (!p.alive || p.role != Role.PRIMARY) return false;
        var followers = nodes.values().stream()
                .filter(n -> n.alive && n != p && n.role == Role.REPLICA && n.epoch == p.epoch && n.following.equals(p.id))
                .toList();
        if (sync && followers.size() < minInSync - 1) return false;
        p.lastSeq += records;
        p.lastEpoch = p.epoch;
        if (sync) {
            for (var f : followers) {
                f.lastSeq = p.lastSeq;
                f.lastEpoch = p.lastEpoch;
                f.caughtUp = true;
            }
        }
        return true;
    }

    /** Replicas following a live primary at its epoch catch up with it. */
    void replicate() {
        for (var n : nodes.values()) {
            var p = nodes.get(n.following);
            if (!n.alive || n.role != Role.REPLICA || p == null || !p.alive || p.role != Role.PRIMARY
                    || p.epoch != n.epoch) {
                continue;
            }
            n.lastSeq = p.lastSeq;
            n.lastEpoch = p.lastEpoch;
            n.lagRecords = 0;
            n.caughtUp = true;
        }
    }
}
