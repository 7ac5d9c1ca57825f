package io.limedb.node.dev;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.FollowRequest;
import io.limedb.api.v1.MemberRole;
import io.limedb.api.v1.PromoteRequest;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.core.failover.AckQuorum;
import io.limedb.core.failover.Command;
import io.limedb.core.failover.FailoverPlan;
import io.limedb.core.failover.FailoverPlanner;
import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.failover.MemberStatus;
import io.limedb.core.failover.ReplicationMode;
import io.limedb.core.failover.Role;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.ShardInfo;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's job for local processes: watches every member's status, detects a lost primary
 * (no answer, or no longer primary, for failureTimeout), plans the failover with the Kubernetes-free
 * core ({@link FailoverPlanner}, {@link AckQuorum}), carries out its commands (fence, promote,
 * follow) and publishes the new topology. Optionally restarts dead processes, as a kubelet would.
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

    /** One completed failover, for people and for tests. */
    public record Failover(String shard, String from, String to, long fromEpoch, long toEpoch, long detectedNanos,
            long promotedNanos, long expectedLossRecords) {}

    private final LocalCluster cluster;
    private final Settings settings;
    private final int shards;
    private final long[] epoch;
    private final int[] primary;       // member index, -1 until bootstrapped
    private final long[] downSince;
    private final String[] lastRefusal;
    private final StatusResponse[][] lastKnown;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Long> deadSince = new HashMap<>();
    private final List<Failover> failovers = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    LocalController(LocalCluster cluster, Settings settings) {
        this.cluster = cluster;
        this.settings = settings;
        this.shards = cluster.spec().shards();
        int n = cluster.spec().replicas();
        epoch = new long[shards];
        primary = new int[shards];
        downSince = new long[shards];
        lastRefusal = new String[shards];
        lastKnown = new StatusResponse[shards][n];
        java.util.Arrays.fill(primary, -1);
        thread = new Thread(this::loop, "local-controller");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    public List<Failover> failovers() {
        return List.copyOf(failovers);
    }

    public synchronized long epoch(int shard) {
        return epoch[shard];
    }

    /** The current primary's process, or null while there is none. */
    public synchronized NodeProcess primary(int shard) {
        return primary[shard] < 0 ? null : cluster.members(shard).get(primary[shard]);
    }

    synchronized String roleOf(String memberName) {
        for (int s = 0; s < shards; s++) {
            var ms = cluster.members(s);
            for (int j = 0; j < ms.size(); j++) {
                if (ms.get(j).name().equals(memberName)) return primary[s] == j ? "primary" : "replica";
            }
        }
        return "?";
    }

    void awaitPrimaries(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (this) {
                if (java.util.Arrays.stream(primary).allMatch(p -> p >= 0)) return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no primary elected within " + timeout + ": " + java.util.Arrays.toString(lastRefusal));
    }

    private void loop() {
        while (running) {
            long start = System.nanoTime();
            for (int s = 0; s < shards && running; s++) {
                try {
                    tick(s);
                } catch (RuntimeException e) {
                    LOG.warn("controller: shard-{}: {}", s, e.toString());
                }
            }
            if (settings.restartDelayMs() >= 0) superviseProcesses();
            long sleep = settings.pollMs() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (sleep > 0) {
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void tick(int s) {
        var ms = cluster.members(s);
        var reports = new StatusResponse[ms.size()];
        for (int j = 0; j < ms.size(); j++) {
            reports[j] = status(ms.get(j));
            if (reports[j] != null) lastKnown[s][j] = reports[j];
        }
        int p;
        long e;
        synchronized (this) {
            p = primary[s];
            e = epoch[s];
        }
        boolean higherEpochSeen = java.util.Arrays.stream(reports).anyMatch(r -> r != null && r.getEpoch() > e);
        boolean healthy = p >= 0 && reports[p] != null && reports[p].getRole() == MemberRole.PRIMARY
                && reports[p].getEpoch() == e && !higherEpochSeen;
        if (healthy) {
            downSince[s] = 0;
            for (int j = 0; j < ms.size(); j++) {
                var r = reports[j];
                if (j == p || r == null) continue;
                boolean following = r.getRole() == MemberRole.REPLICA && r.getEpoch() == e
                        && r.getPrimaryAddress().equals(cluster.addressFor(ms.get(j).name(), ms.get(p)));
                if (!following) follow(ms.get(j), cluster.addressFor(ms.get(j).name(), ms.get(p)), e);
            }
            return;
        }
        long now = System.nanoTime();
        if (p >= 0 && !higherEpochSeen) {
            if (downSince[s] == 0) {
                downSince[s] = now;
                LOG.warn("controller: shard-{}: primary {} at epoch {} is {}; failing over in {} ms unless it returns", s,
                        ms.get(p).name(), e, reports[p] == null ? "unreachable" : "not primary (" + reports[p].getRole() + ")",
                        settings.failureTimeoutMs());
            }
            if (now - downSince[s] < TimeUnit.MILLISECONDS.toNanos(settings.failureTimeoutMs())) return;
        }
        failover(s, p, e, reports, downSince[s] == 0 ? now : downSince[s]);
    }

    private void failover(int s, int p, long e, StatusResponse[] reports, long detectedNanos) {
        var ms = cluster.members(s);
        String shardId = cluster.shardId(s);
        var positions = new ArrayList<AckQuorum.Position>();
        for (int j = 0; j < ms.size(); j++) {
            if (j == p) continue;
            var r = reports[j] != null ? reports[j] : lastKnown[s][j];
            positions.add(new AckQuorum.Position(ms.get(j).name(), reports[j] != null,
                    r == null ? 0 : r.getLastEpoch(), r == null ? 0 : r.getLastSeq()));
        }
        var complete = AckQuorum.complete(positions, settings.minInSync());
        var statuses = new ArrayList<MemberStatus>();
        for (int j = 0; j < ms.size(); j++) {
            var r = reports[j] != null ? reports[j] : lastKnown[s][j];
            Role role = r == null ? Role.UNKNOWN : switch (r.getRole()) {
                case PRIMARY -> j == p ? Role.PRIMARY : Role.REPLICA; // a stale primary is a replica-to-be
                default -> Role.REPLICA;
            };
            statuses.add(new MemberStatus(ms.get(j).name(), ms.get(j).grpcAddress(), reports[j] != null, role,
                    r == null ? 0 : r.getEpoch(), r == null ? 0 : r.getLastSeq(),
                    settings.mode() == ReplicationMode.ASYNC || complete.contains(ms.get(j).name()),
                    r == null ? 0 : r.getLagRecords()));
        }
        var policy = new FailoverPolicy(settings.mode(), settings.minInSync(), settings.maxAsyncLagRecords(), false);
        var plan = FailoverPlanner.plan(shardId, e, p >= 0 ? ms.get(p).name() : null, statuses, policy);
        switch (plan) {
            case FailoverPlan.NoAction n -> { }
            case FailoverPlan.Refuse r -> {
                if (!r.reason().equals(lastRefusal[s])) LOG.warn("controller: {}: failover refused: {}", shardId, r.reason());
                lastRefusal[s] = r.reason();
            }
            case FailoverPlan.Promote promote -> execute(s, p, e, promote, detectedNanos);
        }
    }

    private void execute(int s, int oldPrimary, long oldEpoch, FailoverPlan.Promote plan, long detectedNanos) {
        var ms = cluster.members(s);
        String newAddress = null;
        int newIndex = -1;
        for (int j = 0; j < ms.size(); j++) {
            if (ms.get(j).name().equals(plan.newPrimaryId())) {
                newIndex = j;
                newAddress = ms.get(j).grpcAddress();
            }
        }
        for (Command c : plan.commands()) {
            switch (c) {
                case Command.Fence f -> follow(byName(ms, f.memberId()),
                        cluster.addressFor(f.memberId(), ms.get(newIndex)), f.epoch()); // fencing = learning the epoch
                case Command.Promote pr -> {
                    if (!promote(byName(ms, pr.memberId()), pr.epoch())) return; // try again next round
                }
                case Command.Follow fo -> follow(byName(ms, fo.memberId()),
                        cluster.addressFor(fo.memberId(), ms.get(newIndex)), fo.epoch());
            }
        }
        long promoted = System.nanoTime();
        synchronized (this) {
            primary[s] = newIndex;
            epoch[s] = plan.newEpoch();
        }
        downSince[s] = 0;
        lastRefusal[s] = null;
        publish();
        String from = oldPrimary >= 0 ? ms.get(oldPrimary).name() : "-";
        if (oldPrimary >= 0) {
            failovers.add(new Failover(cluster.shardId(s), from, plan.newPrimaryId(), oldEpoch, plan.newEpoch(),
                    detectedNanos, promoted, plan.expectedLossRecords()));
        }
        LOG.warn("controller: {}: {} {} -> {} at epoch {} -> {} ({} ms after detection; expected loss {} records)",
                cluster.shardId(s), oldPrimary >= 0 ? "failover" : "bootstrap", from, plan.newPrimaryId(), oldEpoch,
                plan.newEpoch(), TimeUnit.NANOSECONDS.toMillis(promoted - detectedNanos), plan.expectedLossRecords());
    }

    private static NodeProcess byName(List<NodeProcess> ms, String name) {
        return ms.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    }

    private void publish() {
        var infos = new ArrayList<ShardInfo>();
        synchronized (this) {
            for (int s = 0; s < shards; s++) {
                var ms = cluster.members(s);
                int p = Math.max(primary[s], 0);
                var members = new ArrayList<Member>();
                for (int j = 0; j < ms.size(); j++) {
                    members.add(new Member(ms.get(j).name(), cluster.addressFor(LocalCluster.COORDINATOR, ms.get(j)),
                            j == p ? io.limedb.core.topology.Role.PRIMARY : io.limedb.core.topology.Role.REPLICA));
                }
                infos.add(new ShardInfo(cluster.shardId(s), epoch[s], members));
            }
        }
        try {
            cluster.writeTopology(infos);
        } catch (java.io.IOException e) {
            LOG.error("controller: cannot write the topology file: {}", e.toString());
        }
    }

    private StatusResponse status(NodeProcess m) {
        try {
            return ReplicationGrpc.newBlockingStub(channel(m)).withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .status(StatusRequest.getDefaultInstance());
        } catch (RuntimeException e) {
            return null;
        }
    }

    private boolean promote(NodeProcess m, long e) {
        try {
            ReplicationGrpc.newBlockingStub(channel(m)).withDeadlineAfter(3, TimeUnit.SECONDS)
                    .promote(PromoteRequest.newBuilder().setEpoch(e).build());
            return true;
        } catch (RuntimeException ex) {
            LOG.warn("controller: promote {} at epoch {} failed: {}", m.name(), e, ex.getMessage());
            return false;
        }
    }

    private void follow(NodeProcess m, String primaryAddress, long e) {
        try {
            ReplicationGrpc.newBlockingStub(channel(m)).withDeadlineAfter(3, TimeUnit.SECONDS)
                    .follow(FollowRequest.newBuilder().setPrimaryAddress(primaryAddress).setEpoch(e).build());
        } catch (RuntimeException ex) {
            LOG.debug("controller: {} follow {} at epoch {}: {}", m.name(), primaryAddress, e, ex.getMessage());
        }
    }

    private ManagedChannel channel(NodeProcess m) {
        return channels.computeIfAbsent(cluster.addressFor(LocalCluster.CONTROLLER, m),
                a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    }

    /** Restarts member processes that died, after restartDelayMs, as a kubelet restarts a pod. */
    private void superviseProcesses() {
        long now = System.nanoTime();
        for (int s = 0; s < shards; s++) {
            for (NodeProcess m : cluster.members(s)) {
                if (m.alive()) {
                    deadSince.remove(m.name());
                    continue;
                }
                long since = deadSince.computeIfAbsent(m.name(), k -> now);
                if (now - since >= TimeUnit.MILLISECONDS.toNanos(settings.restartDelayMs())) {
                    try {
                        LOG.warn("controller: restarting {} (dead for {} ms)", m.name(), TimeUnit.NANOSECONDS.toMillis(now - since));
                        cluster.launch(m);
                        deadSince.remove(m.name());
                    } catch (java.io.IOException e) {
                        LOG.error("controller: cannot restart {}: {}", m.name(), e.toString());
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
