package io.limedb.core.control;

import io.limedb.core.control.TopologyStore.Versioned;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.reshard.Resharding.Phase;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.Ownership.Pair;
import io.limedb.core.ring.RangeSet;
import io.limedb.core.topology.ShardInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Moves ring ranges between shards, one move (a pair of shards) at a time, each step recorded in the
 * store before the next, so that a controller restarted at any step finishes the job:
 * <ol>
 *   <li>Every shard of both rings is told what it owns now (nothing, for a new shard).
 *   <li>{@code COPYING}: the target's primary copies the move's ranges from the source's primary and
 *       keeps up with its writes to them; once it is within a few records, {@code FLIPPING} is recorded.
 *   <li>{@code FLIPPING}: the source stops owning the ranges (its writes to them are refused from
 *       then on: the short write hold), the target catches up to that point, takes ownership once its
 *       replicas hold everything, and the next ring version, with the pair flipped, is published.
 *   <li>{@code FLIPPED}: the source drops the ranges (a range delete in its log: its replicas drop
 *       them too); the move is {@code DONE}.
 * </ol>
 * When every move is done, the new ring is the ring (one more version) and each shard is told so.
 * Only the primaries at the topology's epochs are called; a shard without a healthy primary holds the
 * resharding until it has one (a failover during a move: the move goes on under the new primary,
 * copying again if the one that changed was copying).
 */
final class Resharder {
    private static final long PROGRESS_EVERY_MS = 1000;

    private final RangesPort ranges;
    private final Function<String, Boolean> healthy;
    private final LongSupplier nanoClock;
    private final Consumer<ControlEvent> events;
    // What this instance told each shard primary (primary@epoch -> ring version): pushes are idempotent,
    // this only saves calls.
    private final Map<String, Long> told = new HashMap<>();
    private ReshardPlan plan;
    private long lastProgressWrite = Long.MIN_VALUE;
    private String lastWait = "";

    Resharder(RangesPort ranges, Function<String, Boolean> healthy, LongSupplier nanoClock, Consumer<ControlEvent> events) {
        this.ranges = ranges;
        this.healthy = healthy;
        this.nanoClock = nanoClock;
        this.events = events;
    }

    interface Store {
        Versioned read();

        boolean cas(Versioned v, ClusterState next);
    }

    /** The plan of the resharding in the store's ownership (cached). */
    ReshardPlan plan(Ownership o) {
        if (plan == null || !plan.from().equals(o.shards()) || !plan.to().equals(o.next())) {
            plan = ReshardPlan.between(o.shards(), o.next(), o.vnodes());
        }
        return plan;
    }

    /** One step; true when it changed the store. */
    boolean step(Store store) {
        Versioned v = store.read();
        var state = v.state();
        var o = state.topology().ownership();
        if (state.resharding() == null) return settleTold(v);
        for (String s : o.allShards()) {
            if (state.topology().shard(s).isEmpty()) {
                waiting("the ring names shard " + s + ", which the topology lacks");
                return false;
            }
            if (!healthy.apply(s)) {
                waiting("shard " + s + " has no healthy primary; the resharding waits for it");
                return false;
            }
        }
        var p = plan(o);
        var progress = state.resharding();
        // Everyone knows what it owns before anything moves. Not the two shards of a flipping move: a
        // controller that died before publishing the flip may have left them at the next ring version
        // (the source told it no longer owns the ranges, the target owning them), which refuses this one;
        // the flip tells them again.
        var flipping = new java.util.HashSet<String>();
        progress.moves().forEach((pair, m) -> {
            if (m.phase() == Phase.FLIPPING && p.moves().containsKey(pair)) {
                flipping.add(pair.source());
                flipping.add(pair.target());
            }
        });
        var owned = o.ranges();
        for (String s : o.allShards()) {
            if (flipping.contains(s)) continue;
            if (!tell(state.topology().shard(s).orElseThrow(), o.version(), owned.get(s), RangeSet.empty())) return false;
        }
        // Every move of the plan is recorded before any step: a store that lost some (edited by hand)
        // copies them again rather than settle a ring whose data never moved.
        if (!progress.moves().keySet().containsAll(p.moves().keySet())) {
            var complete = progress;
            for (var e : p.moves().entrySet()) {
                if (!complete.moves().containsKey(e.getKey())) {
                    complete = complete.with(e.getKey(), new Resharding.Move(Phase.COPYING, e.getValue().size(), 0, 0));
                }
            }
            return store.cas(v, state.withTopology(state.topology(), complete));
        }
        for (var e : progress.moves().entrySet()) {
            Pair pair = e.getKey();
            var move = e.getValue();
            if (move.phase() == Phase.DONE || !p.moves().containsKey(pair)) continue; // not the plan's: nothing to move
            var src = state.topology().shard(pair.source()).orElseThrow();
            var dst = state.topology().shard(pair.target()).orElseThrow();
            RangeSet moving = p.moves().getOrDefault(pair, RangeSet.empty());
            String id = pair.toString() + "@v" + o.version();
            try {
                return switch (move.phase()) {
                    case COPYING -> copy(store, v, pair, move, src, dst, moving, id);
                    case FLIPPING -> flip(store, v, pair, move, src, dst, moving, id);
                    case FLIPPED -> drop(store, v, pair, move, src, moving);
                    case DONE -> false;
                };
            } catch (MemberCallException ex) {
                waiting("move " + pair + " (" + move.phase().name().toLowerCase(java.util.Locale.ROOT) + "): "
                        + ex.getMessage());
                return false;
            }
        }
        // Every move done: the new ring is the ring.
        var settled = o.settle();
        if (!store.cas(v, state.withTopology(state.topology().withOwnership(settled), null))) return false;
        events.accept(new ControlEvent.ReshardingCompleted(settled.shards(), settled.version(), progress.totalRanges(),
                progress.keys(), progress.bytes()));
        return true;
    }

    private boolean copy(Store store, Versioned v, Pair pair, Resharding.Move move, ShardInfo src, ShardInfo dst,
            RangeSet moving, String id) {
        var pr = ranges.pull(dst.primary().id(), dst.epoch(), id, src.primary().id(), src.epoch(), moving, 0, 0,
                RangeSet.empty());
        var state = v.state();
        if (pr.state() == RangesPort.PullState.FAILED) {
            waiting("move " + pair + ": the copy failed and starts over: " + pr.error());
            return false;
        }
        if (pr.state() == RangesPort.PullState.CAUGHT_UP || pr.state() == RangesPort.PullState.FINISHED) {
            var next = state.resharding().with(pair, move.copied(pr.keys(), pr.bytes()).with(Phase.FLIPPING));
            if (!store.cas(v, state.withTopology(state.topology(), next))) return false;
            events.accept(new ControlEvent.MoveCaughtUp(pair.source(), pair.target(), moving.size(), pr.keys(), pr.bytes()));
            return true;
        }
        long now = nanoClock.getAsLong();
        if ((pr.keys() != move.keys()) && (lastProgressWrite == Long.MIN_VALUE
                || TimeUnit.NANOSECONDS.toMillis(now - lastProgressWrite) >= PROGRESS_EVERY_MS)) {
            lastProgressWrite = now;
            var next = state.resharding().with(pair, move.copied(pr.keys(), pr.bytes()));
            store.cas(v, state.withTopology(state.topology(), next));
        }
        return false;
    }

    private boolean flip(Store store, Versioned v, Pair pair, Resharding.Move move, ShardInfo src, ShardInfo dst,
            RangeSet moving, String id) {
        var state = v.state();
        var o = state.topology().ownership();
        var next = o.flip(pair);
        var after = next.ranges();
        long t0 = nanoClock.getAsLong();
        // From here the source refuses the ranges: the target catches up to this point and takes them.
        long at = ranges.setOwnership(src.primary().id(), src.epoch(), next.version(), after.get(pair.source()),
                RangeSet.empty());
        told.put(src.primary().id() + "@" + src.epoch(), next.version());
        var pr = ranges.pull(dst.primary().id(), dst.epoch(), id, src.primary().id(), src.epoch(), moving, at,
                next.version(), after.get(pair.target()));
        if (pr.state() != RangesPort.PullState.FINISHED) {
            waiting("move " + pair + ": flipping, the target is " + pr.state().name().toLowerCase(java.util.Locale.ROOT)
                    + (pr.error().isEmpty() ? "" : ": " + pr.error()));
            return false;
        }
        told.put(dst.primary().id() + "@" + dst.epoch(), next.version());
        var progress = state.resharding().with(pair, move.copied(Math.max(move.keys(), pr.keys()),
                Math.max(move.bytes(), pr.bytes())).with(Phase.FLIPPED));
        if (!store.cas(v, state.withTopology(state.topology().withOwnership(next), progress))) return false;
        events.accept(new ControlEvent.MoveFlipped(pair.source(), pair.target(), next.version(), moving.size(),
                TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - t0)));
        return true;
    }

    private boolean drop(Store store, Versioned v, Pair pair, Resharding.Move move, ShardInfo src, RangeSet moving) {
        var state = v.state();
        var o = state.topology().ownership();
        ranges.setOwnership(src.primary().id(), src.epoch(), o.version(), o.rangesOf(pair.source()), moving);
        told.put(src.primary().id() + "@" + src.epoch(), o.version());
        var progress = state.resharding().with(pair, move.with(Phase.DONE));
        if (!store.cas(v, state.withTopology(state.topology(), progress))) return false;
        events.accept(new ControlEvent.MoveDone(pair.source(), pair.target(), moving.size()));
        return true;
    }

    /** After a resharding, every shard of the ring learns the settled version (same ranges). */
    private boolean settleTold(Versioned v) {
        var o = v.state().topology().ownership();
        if (o.version() == 1 && told.isEmpty()) return false; // never resharded: shards serve every key
        Map<String, RangeSet> owned = null;
        for (String s : o.shards()) {
            var shard = v.state().topology().shard(s).orElseThrow();
            if (shard.epoch() == 0 || !healthy.apply(s)) continue;
            Long known = told.get(shard.primary().id() + "@" + shard.epoch());
            if (known != null && known >= o.version()) continue;
            if (owned == null) owned = o.ranges();
            try {
                tell(shard, o.version(), owned.get(s), RangeSet.empty());
            } catch (MemberCallException e) {
                // next tick
            }
        }
        return false;
    }

    private boolean tell(ShardInfo shard, long version, RangeSet owned, RangeSet drop) {
        String key = shard.primary().id() + "@" + shard.epoch();
        Long known = told.get(key);
        if (known != null && known >= version) return true;
        try {
            ranges.setOwnership(shard.primary().id(), shard.epoch(), version, owned, drop);
        } catch (MemberCallException e) {
            waiting("telling " + shard.id() + " what it owns at ring version " + version + ": " + e.getMessage());
            return false;
        }
        told.put(key, version);
        return true;
    }

    private void waiting(String why) {
        if (why.equals(lastWait)) return;
        lastWait = why;
        events.accept(new ControlEvent.ReshardingWaits(why));
    }

    /**
     * Rolls a resharding back: the same owners, described the other way round. The ring being moved
     * to becomes the ring, the old ring the one being moved to, and a pair counts as flipped (back)
     * exactly when it had not flipped forward, so no position changes owner now. Moves that had
     * flipped move their ranges back; moves that had not are only cleaned up (the target drops what
     * it copied). Two versions up: above any version a source was told in a flip left half done.
     */
    static ClusterState rollBack(ClusterState state) {
        var o = state.topology().ownership();
        var plan = ReshardPlan.between(o.shards(), o.next(), o.vnodes());
        var flippedBack = new java.util.LinkedHashSet<Pair>();
        var moves = new java.util.LinkedHashMap<Pair, Resharding.Move>();
        for (var e : plan.moves().entrySet()) {
            Pair forward = e.getKey();
            Pair back = new Pair(forward.target(), forward.source());
            boolean wentForward = o.flipped().contains(forward);
            if (!wentForward) flippedBack.add(back);
            moves.put(back, new Resharding.Move(wentForward ? Phase.COPYING : Phase.FLIPPED, e.getValue().size(), 0, 0));
        }
        var back = new Ownership(o.version() + 2, o.vnodes(), o.next(), o.shards(), flippedBack);
        return state.withTopology(state.topology().withOwnership(back), new Resharding(moves));
    }

    /**
     * Starts a resharding to {@code shards} (every one already in the topology), or does nothing when
     * the ring is already that or moving there. Asked for the ring being moved from, it rolls the
     * resharding in progress back. Refuses while a resharding to another ring runs.
     */
    static ClusterState begin(ClusterState state, List<String> shards) {
        var o = state.topology().ownership();
        if (shards.isEmpty()) throw new IllegalArgumentException("a ring needs at least one shard");
        if (Set.copyOf(shards).size() != shards.size()) throw new IllegalArgumentException("a shard is named twice: " + shards);
        for (String s : shards) {
            if (state.topology().shard(s).isEmpty()) throw new IllegalArgumentException("no shard " + s + " in the topology");
        }
        if (o.resharding()) {
            if (o.next().equals(shards)) return state;
            if (o.shards().equals(shards)) return rollBack(state);
            var r = state.resharding();
            throw new IllegalStateException("a resharding from " + o.shards() + " to " + o.next() + " is in progress ("
                    + r.movedRanges() + " of " + r.totalRanges() + " ranges moved); it must finish (or be rolled back "
                    + "to " + o.shards() + ") first");
        }
        if (o.shards().equals(shards)) return state;
        var begun = o.begin(shards);
        var plan = ReshardPlan.between(o.shards(), shards, o.vnodes());
        return state.withTopology(state.topology().withOwnership(begun), Resharding.start(plan));
    }
}
