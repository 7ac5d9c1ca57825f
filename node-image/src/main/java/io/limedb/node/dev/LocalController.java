package io.limedb.node.dev;

import io.limedb.api.members.GrpcMembers;
import io.limedb.core.control.ControlEvent;
import io.limedb.core.control.ControlLoop;
import io.limedb.core.control.Failover;
import io.limedb.core.control.TickThread;
import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.topology.ReplicationMode;
import io.limedb.core.topology.ShardInfo;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.node.topology.FileTopologyStore;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's job for local processes: a thread that ticks the Kubernetes-free
 * {@link ControlLoop} against the members over gRPC ({@link GrpcMembers}) and the topology file
 * ({@link FileTopologyStore}), logs its events, and restarts dead processes, as a kubelet would.
 */
public final class LocalController implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalController.class);

    /** Tunables; restartDelayMs < 0 disables restarting dead processes. */
    public record Settings(ReplicationMode mode, int minInSync, long failureTimeoutMs, long pollMs,
            long maxAsyncLagRecords, long restartDelayMs) {
        public static Settings from(LocalCluster.Spec spec) {
            return new Settings(ReplicationMode.valueOf(spec.replication().toUpperCase(Locale.ROOT)), spec.minInSync(),
                    1500, 200, 100_000, -1);
        }

        public Settings withRestartDelay(long ms) {
            return new Settings(mode, minInSync, failureTimeoutMs, pollMs, maxAsyncLagRecords, ms);
        }

        public Settings withFailureTimeout(long ms) {
            return new Settings(mode, minInSync, ms, pollMs, maxAsyncLagRecords, restartDelayMs);
        }
    }

    private final LocalCluster cluster;
    private final Settings settings;
    private final FileTopologyStore store;
    private final GrpcMembers members;
    private final io.limedb.api.members.GrpcRanges ranges;
    private final ControlLoop loop;
    private final Map<String, Long> deadSince = new HashMap<>();
    private final TickThread thread;

    LocalController(LocalCluster cluster, Settings settings, FileTopologyStore store) {
        this.cluster = cluster;
        this.settings = settings;
        this.store = store;
        this.members = new GrpcMembers(cluster.memberAddresses());
        this.ranges = new io.limedb.api.members.GrpcRanges(cluster.memberAddresses());
        var policy = new FailoverPolicy(settings.mode(), settings.minInSync(), settings.maxAsyncLagRecords(), false);
        this.loop = new ControlLoop(members, ranges, store, new ControlLoop.Settings(policy, settings.failureTimeoutMs()),
                System::nanoTime, LocalController::log);
        thread = new TickThread("local-controller", settings.pollMs(), this::step, error -> {
            if (!error.isEmpty()) LOG.error("controller: {}", error);
        });
    }

    void start() {
        thread.start();
    }

    /** Adds a shard to the topology (outside the ring) and waits until it takes writes. */
    void addShard(ShardInfo shard) throws InterruptedException {
        loop.addShard(shard);
        awaitTakingWrites(List.of(shard.id()), Duration.ofSeconds(60));
    }

    /**
     * Moves the ring to {@code shards} and waits until every move is done, logging progress each second.
     * Refused while a resharding to another ring runs.
     */
    void reshard(List<String> shards, Duration timeout) throws InterruptedException {
        loop.reshard(shards);
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastLog = 0;
        while (true) {
            var st = loop.state();
            if (st != null && st.resharding() == null) {
                var ring = st.topology().ownership().shards();
                if (ring.equals(shards)) return;
                throw new IllegalStateException("the resharding to " + shards + " was rolled back; the ring is " + ring);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("resharding to " + shards + " not done within " + timeout + ": "
                        + progress().orElse("?"));
            }
            if (System.nanoTime() - lastLog > TimeUnit.SECONDS.toNanos(1)) {
                lastLog = System.nanoTime();
                progress().ifPresent(p -> LOG.info("controller: {}", p));
            }
            Thread.sleep(50);
        }
    }

    /** The resharding in progress, in one line: ranges moved of total, keys and bytes copied. */
    public Optional<String> progress() {
        var st = loop.state();
        if (st == null || st.resharding() == null) return Optional.empty();
        var r = st.resharding();
        var o = st.topology().ownership();
        return Optional.of("resharding " + o.shards() + " -> " + o.next() + ": " + r.movedRanges() + "/" + r.totalRanges()
                + " ranges moved, " + r.keys() + " keys, " + r.bytes() + " bytes copied, ring version " + o.version());
    }

    /** The ring in force, its version, and the resharding in progress if any. */
    public String ringSummary() {
        var st = loop.state();
        if (st == null) return "no topology yet";
        var o = st.topology().ownership();
        return "ring " + o.shards() + " version " + o.version() + progress().map(p -> "; " + p).orElse("");
    }

    /**
     * Rolls the resharding in progress back to the ring it started from (what moved moves back);
     * false when there is none.
     */
    public boolean rollBack() {
        var st = loop.state();
        if (st == null || st.resharding() == null) return false;
        loop.reshard(st.topology().ownership().shards());
        return true;
    }

    /** The state the controller last read or wrote: topology, ring ownership, resharding progress. */
    public io.limedb.core.control.ClusterState state() {
        return loop.state();
    }

    /** Removes a shard outside the ring from the topology. */
    void removeShard(String shardId) {
        loop.removeShard(shardId);
    }

    /** Completed failovers, in order (bootstraps excluded). */
    public List<Failover> failovers() {
        return loop.failovers();
    }

    /** The shard's epoch in the published topology. */
    public long epoch(int shard) {
        return shardInfo(shard).map(ShardInfo::epoch).orElse(0L);
    }

    /** The published primary's process, or null while the shard never had one. */
    public NodeProcess primary(int shard) {
        return shardInfo(shard).filter(s -> s.epoch() > 0).map(s -> cluster.member(s.primary().id())).orElse(null);
    }

    String roleOf(String memberName) {
        for (int s = 0; s < cluster.shardCount(); s++) {
            var p = primary(s);
            if (cluster.members(s).stream().anyMatch(m -> m.name().equals(memberName))) {
                return p != null && p.name().equals(memberName) ? "primary" : "replica";
            }
        }
        return "?";
    }

    /**
     * Waits until every shard takes writes: a published primary that serves at its epoch and, under sync
     * replication, has the replicas in sync that a write needs (ControlLoop.takesWrites).
     */
    void awaitTakingWrites(Duration timeout) throws InterruptedException {
        awaitTakingWrites(IntStream.range(0, cluster.shardCount()).mapToObj(cluster::shardId).toList(), timeout);
    }

    private void awaitTakingWrites(List<String> shardIds, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (shardIds.stream().allMatch(loop::takesWrites)) return;
            Thread.sleep(50);
        }
        var noPrimary = shardIds.stream().filter(id -> !loop.healthy(id)).toList();
        var notWritable = shardIds.stream().filter(id -> loop.healthy(id) && !loop.takesWrites(id)).toList();
        throw new IllegalStateException("not every shard takes writes after " + timeout
                + (noPrimary.isEmpty() ? "" : "; without a primary: " + noPrimary)
                + (notWritable.isEmpty() ? "" : "; primary not serving yet or too few replicas in sync: " + notWritable)
                + "; topology: " + store.file() + (thread.lastError().isEmpty() ? "" : "; last error: " + thread.lastError()));
    }

    private Optional<ShardInfo> shardInfo(int shard) {
        var state = loop.state();
        return state == null ? Optional.empty() : state.topology().shard(cluster.shardId(shard));
    }

    /** One tick of the loop, then (as a kubelet would) restarts of dead processes, even if the tick failed. */
    private void step() {
        try {
            loop.tick();
        } finally {
            if (settings.restartDelayMs() >= 0) superviseProcesses();
        }
    }

    private static void log(ControlEvent e) {
        if (e.warning()) {
            LOG.warn("controller: {}", e.message());
        } else {
            LOG.info("controller: {}", e.message());
        }
    }

    /** Restarts member processes that died, after restartDelayMs, as a kubelet restarts a pod. */
    private void superviseProcesses() {
        long now = System.nanoTime();
        for (int s = 0; s < cluster.shardCount(); s++) {
            List<NodeProcess> ms;
            try {
                ms = cluster.members(s);
            } catch (IndexOutOfBoundsException removedMeanwhile) {
                break;
            }
            for (NodeProcess m : ms) {
                if (m.retired) continue;
                if (m.alive()) {
                    deadSince.remove(m.name());
                    continue;
                }
                long since = deadSince.computeIfAbsent(m.name(), k -> now);
                if (now - since >= TimeUnit.MILLISECONDS.toNanos(settings.restartDelayMs())) {
                    try {
                        LOG.warn("controller: {}: restarting {} (dead for {} ms)", cluster.shardId(s), m.name(),
                                TimeUnit.NANOSECONDS.toMillis(now - since));
                        cluster.launch(m);
                        deadSince.remove(m.name());
                    } catch (IOException e) {
                        LOG.error("controller: {}: cannot restart {}: {}", cluster.shardId(s), m.name(), e.toString());
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        thread.close();
        members.close();
        ranges.close();
    }
}
