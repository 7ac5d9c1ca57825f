package io.limedb.core.control;

import io.limedb.core.control.TopologyStore.Versioned;
import io.limedb.core.failover.Election;
import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.failover.MemberReport;
import io.limedb.core.topology.ShardInfo;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps every shard with exactly one primary, against a {@link MembersPort} and a
 * {@link TopologyStore}, with no Kubernetes or gRPC types: the operator and the local {@code dev}
 * controller drive this same loop.
 *
 * <p>Per shard, each {@link #tick} takes idempotent steps, each recorded in the store before it
 * acts, so that a controller restarted after any step (a new instance on the same store) finishes
 * the job:
 * <ol>
 *   <li>Observe: the shard is healthy when the topology's primary answers as primary at the
 *       topology's epoch and no member reports a higher one; then every other reachable member is
 *       told to follow it, if it does not already. It takes writes ({@link #takesWrites}) when that
 *       primary also serves and, under sync replication, counts minInSync-1 replicas in sync: what
 *       the adapters' "ready" and "up" report. A primary unreachable or not primary for
 *       {@code failureTimeoutMs}, a higher epoch, or a shard that never had a primary (epoch 0):
 *       record a {@code FENCING} intent at E = 1 + the highest epoch the topology or any member has.
 *   <li>{@code FENCING}: fence every reachable member at E. An answer above E means someone else
 *       raised the epoch: a new attempt above it is recorded. Otherwise {@link Election} chooses from
 *       the fenced answers; a refusal keeps the intent and the next tick fences and tries again.
 *   <li>Record {@code PROMOTING} with the chosen member X.
 *   <li>{@code PROMOTING}: promote X at E, then publish the next topology version (X primary at E,
 *       intent cleared). If X cannot be promoted for {@code failureTimeoutMs}, or has moved past E,
 *       a new {@code FENCING} attempt above E is recorded instead.
 * </ol>
 * Only the store is authoritative; what this instance remembers (since when a primary looks lost,
 * members' last reports, refusals already reported) only times and phrases its decisions.
 */
public final class ControlLoop {

    /**
     * @param policy           what a failover may promote
     * @param failureTimeoutMs how long a primary may be lost before failover; also how long a
     *                         bootstrap waits for every member, and a promotion may keep failing
     */
    public record Settings(FailoverPolicy policy, long failureTimeoutMs, boolean automaticFailover) {
        public Settings {
            Objects.requireNonNull(policy, "policy");
            if (failureTimeoutMs < 0) throw new IllegalArgumentException("failureTimeoutMs must be >= 0");
        }

        public Settings(FailoverPolicy policy, long failureTimeoutMs) {
            this(policy, failureTimeoutMs, true);
        }
    }

    private static final int MAX_STEPS_PER_TICK = 8;
    private static final long NEVER = Long.MIN_VALUE;

    private final MembersPort members;
    private final TopologyStore store;
    private final Settings settings;
    private final LongSupplier nanoClock;
    private final Consumer<ControlEvent> events;
    private final Map<String, ShardMemory> memory = new HashMap<>();
    private final List<Failover> failovers = new CopyOnWriteArrayList<>();
    private final Set<String> healthy = ConcurrentHashMap.newKeySet();
    private final Set<String> takingWrites = ConcurrentHashMap.newKeySet(); // healthy, serving, enough in sync
    private final Map<String, Map<String, MemberReport>> lastReports = new ConcurrentHashMap<>();
    private volatile ClusterState state;
    private Set<String> departing = Set.of();
    private final Resharder resharder;

    /**
     * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime})
     * @param events    told of every meaningful event; the adapter logs them
     */
    public ControlLoop(MembersPort members, TopologyStore store, Settings settings, LongSupplier nanoClock,
            Consumer<ControlEvent> events) {
        this(members, null, store, settings, nanoClock, events);
    }

    /** A loop that also moves ring ranges between shards (see {@link #reshard}) through {@code ranges}. */
    public ControlLoop(MembersPort members, RangesPort ranges, TopologyStore store, Settings settings,
            LongSupplier nanoClock, Consumer<ControlEvent> events) {
        this.resharder = ranges == null ? null : new Resharder(ranges, healthy::contains, nanoClock, events);
        this.members = Objects.requireNonNull(members, "members");
        this.store = Objects.requireNonNull(store, "store");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.events = Objects.requireNonNull(events, "events");
    }

    /** Advances every shard as far as it can go now. Throws what the store throws. */
    public void tick() {
        tick(Set.of());
    }

    /**
     * Advances every shard as far as it can go now; {@code departing} are members whose pod is being
     * deleted or is gone. A departing primary is failed over at once (a switchover while it still
     * answers: fenced, so nothing it acknowledged is lost), and a departing member is never promoted.
     */
    public void tick(Set<String> departing) {
        this.departing = Set.copyOf(departing);
        for (ShardInfo s : read().state().topology().shards()) {
            for (int i = 0; i < MAX_STEPS_PER_TICK && step(s.id()); i++) {
                // each step re-reads the store: the one before it changed it
            }
        }
        if (resharder == null) return;
        var reshardStore = new Resharder.Store() {
            public Versioned read() {
                return ControlLoop.this.read();
            }

            public boolean cas(Versioned v, ClusterState next) {
                return ControlLoop.this.cas(v, next);
            }
        };
        for (int i = 0; i < MAX_STEPS_PER_TICK && resharder.step(reshardStore); i++) {
            // a move's next step can follow at once
        }
    }

    /**
     * Starts moving the ring to {@code shards} (all already in the topology, with primaries): recorded
     * in the store, carried out by the following ticks. Nothing happens when the ring is already that,
     * or moving there. Asked for the ring a resharding in progress moves from, it rolls that back
     * (what moved moves back). Refused (IllegalStateException) while a resharding to another ring runs.
     */
    public void reshard(List<String> shards) {
        if (resharder == null) throw new IllegalStateException("this control loop was built without resharding");
        for (int attempt = 0; attempt < 10; attempt++) {
            var v = read();
            var next = Resharder.begin(v.state(), shards);
            if (next == v.state()) return;
            if (cas(v, next)) {
                var o = next.topology().ownership();
                var plan = resharder.plan(o);
                if (o.resharding()) {
                    emit(new ControlEvent.ReshardingStarted(o.shards(), o.next(), plan.moves().size(), plan.rangeCount(),
                            o.version(), v.state().topology().ownership().resharding()));
                }
                return;
            }
        }
        throw new IllegalStateException("the topology store kept changing; try again");
    }

    /** Adds a shard (its members, epoch 0: bootstrapped by the next ticks) to the topology, outside the ring. */
    public void addShard(ShardInfo shard) {
        for (int attempt = 0; attempt < 10; attempt++) {
            var v = read();
            if (v.state().topology().shard(shard.id()).isPresent()) return;
            if (cas(v, v.state().withTopology(v.state().topology().withShard(shard), v.state().resharding()))) return;
        }
        throw new IllegalStateException("the topology store kept changing; try again");
    }

    /** Removes a shard that is in no ring (its ranges moved away) from the topology. */
    public void removeShard(String shardId) {
        for (int attempt = 0; attempt < 10; attempt++) {
            var v = read();
            if (v.state().topology().shard(shardId).isEmpty()) return;
            var intents = new HashMap<>(v.state().intents());
            intents.remove(shardId);
            var next = new ClusterState(v.state().topology().withoutShard(shardId), intents, v.state().resharding());
            if (cas(v, next)) {
                memory.remove(shardId);
                healthy.remove(shardId);
                takingWrites.remove(shardId);
                lastReports.remove(shardId);
                return;
            }
        }
        throw new IllegalStateException("the topology store kept changing; try again");
    }

    /** The state last read from or written to the store; null before the first tick. */
    public ClusterState state() {
        return state;
    }

    /** Whether the last look at the shard found its primary serving at the topology's epoch. */
    public boolean healthy(String shardId) {
        return healthy.contains(shardId);
    }

    /**
     * Whether the last look at the shard found it taking writes: healthy, its primary serving (not waiting
     * out its predecessor's read lease), and under sync replication with the minInSync-1 replicas in sync
     * that a write needs. What a status that says "ready" must mean.
     */
    public boolean takesWrites(String shardId) {
        return takingWrites.contains(shardId);
    }

    /** The last report of each member of the shard this instance heard (for status: roles, lag). */
    public Map<String, MemberReport> lastReports(String shardId) {
        var m = lastReports.get(shardId);
        return m == null ? Map.of() : Map.copyOf(m);
    }

    /** Failovers this instance completed, in order; bootstraps excluded. */
    public List<Failover> failovers() {
        return List.copyOf(failovers);
    }

    /** One step for one shard; true when it changed the store, so that the next step can follow at once. */
    private boolean step(String shardId) {
        var v = read();
        var shard = v.state().topology().shard(shardId);
        if (shard.isEmpty()) return false;
        var mem = memory.computeIfAbsent(shardId, k -> new ShardMemory());
        var intent = v.state().intent(shardId);
        if (intent.isEmpty()) return observe(v, shard.get(), mem);
        healthy.remove(shardId);
        takingWrites.remove(shardId);
        mem.begin(intent.get().epoch(), now());
        return switch (intent.get().phase()) {
            case FENCING -> fenceAndChoose(v, shard.get(), intent.get(), mem);
            case PROMOTING -> promoteAndPublish(v, shard.get(), intent.get(), mem);
        };
    }

    private boolean observe(Versioned v, ShardInfo shard, ShardMemory mem) {
        long e = shard.epoch();
        String p = shard.primary().id();
        var reports = statusAll(shard, mem);
        var higher = reports.values().stream().filter(r -> r.epoch() > e)
                .max(Comparator.comparingLong(MemberReport::epoch));
        var pr = reports.get(p);
        boolean leaving = e > 0 && departing.contains(p)
                && shard.memberIds().stream().anyMatch(m -> !departing.contains(m));
        if (e > 0 && higher.isEmpty() && pr != null && pr.isPrimaryAt(e) && !leaving) {
            healthy.add(shard.id());
            var policy = settings.policy();
            if (pr.takesWritesAt(e, policy.mode(), policy.minInSync())) {
                takingWrites.add(shard.id());
            } else {
                takingWrites.remove(shard.id());
            }
            if (mem.suspectSince != NEVER) emit(new ControlEvent.PrimaryRecovered(shard.id(), e, p));
            mem.suspectSince = NEVER;
            followAll(shard, p, e, reports, mem);
            return false;
        }
        healthy.remove(shard.id());
        takingWrites.remove(shard.id());
        long now = now();
        String why;
        if (e == 0) {
            why = "the shard never had a primary";
        } else if (higher.isPresent()) {
            why = higher.get().memberId() + " reports epoch " + higher.get().epoch() + ", above the topology's";
        } else if (leaving) {
            if (!settings.automaticFailover()) return false;
            why = "primary " + p + " is departing (" + (pr == null ? "pod gone" : "pod being deleted: switchover")
                    + ")";
        } else {
            String what = pr == null ? "unreachable" : "not primary at epoch " + e + " (" + pr.describe() + ")";
            if (mem.suspectSince == NEVER) {
                mem.suspectSince = now;
                emit(new ControlEvent.PrimarySuspected(shard.id(), e, p, what, settings.failureTimeoutMs()));
            }
            long lostMs = elapsedMs(mem.suspectSince, now);
            if (lostMs < settings.failureTimeoutMs() || !settings.automaticFailover()) return false;
            why = "primary " + p + " " + what + " for " + lostMs + " ms";
        }
        long next = nextEpoch(e, mem);
        if (!cas(v, v.state().withIntent(shard.id(), FailoverIntent.fencing(next)))) return false;
        mem.detectedAt = mem.suspectSince != NEVER ? mem.suspectSince : now;
        mem.suspectSince = NEVER;
        emit(new ControlEvent.FailoverStarted(shard.id(), next, p, e, why));
        return true;
    }

    private boolean fenceAndChoose(Versioned v, ShardInfo shard, FailoverIntent intent, ShardMemory mem) {
        long e = intent.epoch();
        var answers = new LinkedHashMap<String, MemberReport>();
        for (String m : shard.memberIds()) {
            try {
                answers.put(m, remember(shard, m, members.fence(m, e), mem));
            } catch (MemberCallException unreachable) {
                // not fenced: it counts for nothing in this election
            }
        }
        var above = answers.values().stream().filter(r -> r.epoch() > e)
                .max(Comparator.comparingLong(MemberReport::epoch));
        if (above.isPresent()) {
            long next = nextEpoch(e, mem);
            if (!cas(v, v.state().withIntent(shard.id(), FailoverIntent.fencing(next)))) return false;
            emit(new ControlEvent.AttemptDropped(shard.id(), e, above.get().memberId(), above.get().epoch(), next));
            return true;
        }
        var ballot = new Election.Ballot(shard.id(), e, shard.memberIds(), answers, shard.epoch() == 0,
                elapsedMs(mem.attemptSince, now()) >= settings.failureTimeoutMs(), knownHead(mem), departing);
        switch (Election.choose(ballot, settings.policy())) {
            case Election.Refused r -> {
                if (!r.reason().equals(mem.lastRefusal)) emit(new ControlEvent.Refused(shard.id(), e, r.reason(), shard.epoch() == 0));
                mem.lastRefusal = r.reason();
                return false;
            }
            case Election.Chosen c -> {
                var next = FailoverIntent.promoting(e, c.memberId(), c.expectedLossRecords());
                if (!cas(v, v.state().withIntent(shard.id(), next))) return false;
                mem.lastRefusal = "";
                emit(new ControlEvent.PrimaryChosen(shard.id(), e, c.memberId(), c.expectedLossRecords(), c.why()));
                return true;
            }
        }
    }

    private boolean promoteAndPublish(Versioned v, ShardInfo shard, FailoverIntent intent, ShardMemory mem) {
        long e = intent.epoch();
        String x = intent.newPrimary();
        String error;
        try {
            var r = remember(shard, x, members.promote(x, e), mem);
            error = r.isPrimaryAt(e) ? null : "it answered " + r.describe();
        } catch (MemberCallException ex) {
            error = ex.getMessage();
        }
        if (error != null) return promotionFailed(v, shard, intent, mem, error);
        String from = shard.epoch() == 0 ? "-" : shard.primary().id();
        if (!cas(v, v.state().publish(shard.withPrimary(x, e)))) return false;
        var f = new Failover(shard.id(), from, x, shard.epoch(), e, mem.detectedAt, now(), intent.expectedLossRecords());
        if (!f.bootstrap()) failovers.add(f);
        mem.finish();
        emit(new ControlEvent.FailoverCompleted(f));
        return true;
    }

    private boolean promotionFailed(Versioned v, ShardInfo shard, FailoverIntent intent, ShardMemory mem,
            String error) {
        long e = intent.epoch();
        String x = intent.newPrimary();
        long now = now();
        if (mem.promoteFailingSince == NEVER) mem.promoteFailingSince = now;
        if (!error.equals(mem.lastPromoteError)) emit(new ControlEvent.PromoteFailed(shard.id(), e, x, error));
        mem.lastPromoteError = error;
        var st = status(shard, x, mem);
        long failingMs = elapsedMs(mem.promoteFailingSince, now);
        boolean overtaken = st.isPresent() && st.get().epoch() > e;
        if (!overtaken && failingMs < settings.failureTimeoutMs()) return false;
        long next = nextEpoch(e, mem);
        if (!cas(v, v.state().withIntent(shard.id(), FailoverIntent.fencing(next)))) return false;
        emit(new ControlEvent.AttemptAbandoned(shard.id(), e, x,
                overtaken ? x + " is at epoch " + st.get().epoch() : "failing for " + failingMs + " ms", next));
        return true;
    }

    private void followAll(ShardInfo shard, String p, long e, Map<String, MemberReport> reports, ShardMemory mem) {
        for (String m : shard.memberIds()) {
            var r = reports.get(m);
            if (m.equals(p) || r == null || r.followsAt(p, e)) continue;
            try {
                members.follow(m, p, e);
                mem.followErrors.remove(m);
                if (!(p + "@" + e).equals(mem.followed.put(m, p + "@" + e))) {
                    emit(new ControlEvent.FollowOrdered(shard.id(), e, m, p));
                }
            } catch (MemberCallException ex) {
                if (!ex.getMessage().equals(mem.followErrors.put(m, ex.getMessage()))) {
                    emit(new ControlEvent.FollowFailed(shard.id(), e, m, p, ex.getMessage()));
                }
            }
        }
    }

    private Map<String, MemberReport> statusAll(ShardInfo shard, ShardMemory mem) {
        var out = new HashMap<String, MemberReport>();
        for (String m : shard.memberIds()) status(shard, m, mem).ifPresent(r -> out.put(m, r));
        return out;
    }

    private Optional<MemberReport> status(ShardInfo shard, String m, ShardMemory mem) {
        try {
            return Optional.of(remember(shard, m, members.status(m), mem));
        } catch (MemberCallException unreachable) {
            var known = lastReports.get(shard.id());
            if (known != null) known.remove(m);
            return Optional.empty();
        }
    }

    private MemberReport remember(ShardInfo shard, String m, MemberReport r, ShardMemory mem) {
        if (!r.memberId().equals(m)) {
            throw new IllegalStateException("asked " + m + " of " + shard.id() + ", " + r.memberId() + " answered");
        }
        var before = mem.lastKnown.put(m, r);
        lastReports.computeIfAbsent(shard.id(), k -> new ConcurrentHashMap<>()).put(m, r);
        if (before != null && !before.storageId().isEmpty() && !r.storageId().isEmpty()
                && !before.storageId().equals(r.storageId())) {
            emit(new ControlEvent.StorageReplaced(shard.id(), r.epoch(), m, before.storageId(), r.storageId(),
                    r.caughtUp()));
        }
        return r;
    }

    /** Above the topology's epoch, the current attempt's, and every epoch any member reported. */
    private static long nextEpoch(long atLeast, ShardMemory mem) {
        long max = mem.lastKnown.values().stream().mapToLong(MemberReport::epoch).max().orElse(0);
        return Math.addExact(Math.max(atLeast, max), 1);
    }

    private static long knownHead(ShardMemory mem) {
        return mem.lastKnown.values().stream().mapToLong(MemberReport::knownHead).max().orElse(0);
    }

    // Reads and writes of the store take turns (the tick's thread and the adapters' calls: reshard, addShard,
    // removeShard), so that state() only ever moves forward: a read that started before a write and ended
    // after it would otherwise put back the older state, and an adapter reading it (a scale-out waiting for
    // its ring) would act on a topology already gone.
    private final Object storeTurn = new Object();

    private Versioned read() {
        synchronized (storeTurn) {
            var v = store.read();
            state = v.state();
            return v;
        }
    }

    private boolean cas(Versioned v, ClusterState next) {
        synchronized (storeTurn) {
            if (!store.compareAndSet(v.version(), next)) return false;
            state = next;
            return true;
        }
    }

    private void emit(ControlEvent e) {
        events.accept(e);
    }

    private long now() {
        return nanoClock.getAsLong();
    }

    private static long elapsedMs(long since, long now) {
        return since == NEVER ? 0 : TimeUnit.NANOSECONDS.toMillis(now - since);
    }

    /** What this instance remembers of a shard: timing and phrasing only, never authority. */
    private static final class ShardMemory {
        long suspectSince = NEVER;
        long detectedAt = NEVER;
        long attemptEpoch;
        long attemptSince = NEVER;
        long promoteFailingSince = NEVER;
        String lastRefusal = "";
        String lastPromoteError = "";
        final Map<String, MemberReport> lastKnown = new HashMap<>();
        final Map<String, String> followErrors = new HashMap<>();
        final Map<String, String> followed = new HashMap<>();

        /** Working on the attempt at {@code epoch}; a new attempt restarts its clocks. */
        void begin(long epoch, long now) {
            if (detectedAt == NEVER) detectedAt = now;
            if (attemptEpoch == epoch) return;
            attemptEpoch = epoch;
            attemptSince = now;
            promoteFailingSince = NEVER;
            lastPromoteError = "";
        }

        void finish() {
            suspectSince = NEVER;
            detectedAt = NEVER;
            attemptEpoch = 0;
            attemptSince = NEVER;
            promoteFailingSince = NEVER;
            lastRefusal = "";
            lastPromoteError = "";
        }
    }
}
