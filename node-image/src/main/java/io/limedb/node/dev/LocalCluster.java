package io.limedb.node.dev;

import io.limedb.core.control.ClusterState;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.node.topology.FileTopologyStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A LimeDB cluster of local processes on one host: N shard processes and a coordinator, each its own
 * JVM, with a topology file. Used by `dev` and by the integration tests, which kill and restart its
 * processes.
 */
public final class LocalCluster implements AutoCloseable {

    /** Where the processes listen and keep their data. */
    public record Spec(int shards, int replicas, String replication, int minInSync, Path dataDir, String host,
            int coordinatorHttp, int coordinatorResp, int coordinatorGrpc, int[] shardGrpc, int[] shardHttp,
            List<String> extraArgs) {
        public Spec {
            if (shards < 1) throw new IllegalArgumentException("need at least one shard, got " + shards);
            if (replicas < 1) throw new IllegalArgumentException("need at least one member per shard, got " + replicas);
            if (shardGrpc.length != shards * replicas || shardHttp.length != shards * replicas) {
                throw new IllegalArgumentException("one gRPC and one HTTP port per shard member");
            }
            if (replicas > 1 && minInSync > replicas) {
                throw new IllegalArgumentException("min-in-sync " + minInSync + " exceeds " + replicas + " members");
            }
        }

        public boolean replicated() {
            return replicas > 1;
        }
    }

    /** One running (or stopped) node process. */
    public static final class NodeProcess {
        final String name;
        final List<String> command;
        final Path log;
        final int httpPort;
        final String grpcAddress;
        volatile Process process;
        volatile boolean retired; // its shard was removed: never restarted

        NodeProcess(String name, List<String> command, Path log, int httpPort, String grpcAddress) {
            this.name = name;
            this.command = command;
            this.log = log;
            this.httpPort = httpPort;
            this.grpcAddress = grpcAddress;
        }

        public String grpcAddress() {
            return grpcAddress;
        }

        public String name() {
            return name;
        }

        public long pid() {
            return process == null ? -1 : process.pid();
        }

        public boolean alive() {
            return process != null && process.isAlive();
        }

        public Path log() {
            return log;
        }
    }

    private final Spec spec;
    private final Path jar;
    private final List<NodeProcess> shards = new ArrayList<>();      // standalone: one per shard
    private final List<List<NodeProcess>> members = new ArrayList<>(); // per shard, its members
    private NodeProcess coordinator;
    private LocalController controller;
    private LocalController.Settings controllerSettings;
    private FileTopologyStore topology;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private volatile Links links = (from, to) -> to.grpcAddress();

    /**
     * Which address one process uses to reach a member's gRPC port. By default the member's own; a
     * fault test puts a proxy between each pair so that it can cut, blackhole or delay one link.
     * {@code from} is a member name, {@link #COORDINATOR} or {@link #CONTROLLER}.
     */
    @FunctionalInterface
    public interface Links {
        String address(String from, NodeProcess to);
    }

    public static final String COORDINATOR = "coordinator";
    public static final String CONTROLLER = "controller";
    /**
     * glibc's malloc asks for transparent huge pages (madvise) for what it maps; set for every node
     * unless dev's own environment has GLIBC_TUNABLES (empty: off, for an A/B).
     */
    static final String HUGE_PAGES_ENV = "GLIBC_TUNABLES";
    static final String HUGE_PAGES_VALUE = "glibc.malloc.hugetlb=1";

    /** Routes links through {@code l} (set before start). */
    public void links(Links l) {
        this.links = l;
    }

    /** The address {@code from} must use to reach {@code to}. */
    public String addressFor(String from, NodeProcess to) {
        return links.address(from, to);
    }

    public LocalCluster(Spec spec, Path jar) {
        this.spec = spec;
        this.jar = jar;
    }

    /** Where member k (0-based over all shards, k >= shards * replicas of the spec) listens: {grpc, http}. */
    @FunctionalInterface
    public interface MorePorts {
        int[] ports(int member);
    }

    private volatile MorePorts morePorts = k -> {
        throw new IllegalStateException("no ports configured for shard members beyond the first "
                + "(LocalCluster.morePorts)");
    };

    /** How ports are found for shards added after the start (set before start). */
    public void morePorts(MorePorts p) {
        this.morePorts = p;
    }

    /** How many shards run now (the spec's, plus those added, minus those removed). */
    public synchronized int shardCount() {
        return members.size();
    }

    public Spec spec() {
        return spec;
    }

    public Path topologyFile() {
        return spec.dataDir().resolve("topology.json");
    }

    public String shardId(int i) {
        return "shard-" + i;
    }

    public String memberId(int shard, int member) {
        return spec.replicated() ? shardId(shard) + "-" + member : shardId(shard);
    }

    public synchronized List<NodeProcess> members(int shard) {
        return List.copyOf(members.get(shard));
    }

    /** The shard member process named {@code name}. */
    /** Where the controller and the members reach each other, for the control loop's gRPC calls. */
    public io.limedb.api.members.GrpcMembers.Addresses memberAddresses() {
        return new io.limedb.api.members.GrpcMembers.Addresses() {
            @Override
            public String controllerAddress(String memberId) {
                return addressFor(CONTROLLER, member(memberId));
            }

            @Override
            public String peerAddress(String fromId, String toId) {
                return addressFor(fromId, member(toId));
            }

            @Override
            public String memberAt(String fromId, String address) {
                for (NodeProcess p : members(shardOf(fromId))) {
                    if (addressFor(fromId, p).equals(address)) return p.name();
                }
                return "";
            }
        };
    }

    public synchronized NodeProcess member(String name) {
        return members.get(shardOf(name)).stream().filter(m -> m.name.equals(name)).findFirst().orElseThrow();
    }

    /** The index of the shard {@code memberName} belongs to. */
    public synchronized int shardOf(String memberName) {
        for (int s = 0; s < members.size(); s++) {
            if (members.get(s).stream().anyMatch(m -> m.name.equals(memberName))) return s;
        }
        throw new IllegalArgumentException("no shard member named " + memberName);
    }

    public LocalController controller() {
        return controller;
    }

    /** Starts every process, writes the topology, and waits until all report ready. */
    public void start(Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(spec.dataDir().resolve("logs"));
        // The data directory's own shards win over the spec: they hold the data the ring points at.
        int stored = storedShardCount();
        int count = stored > 0 ? stored : spec.shards();
        if (count != spec.shards()) {
            System.out.println("limedb: " + topologyFile() + " has " + count + " shards from an earlier run (shards were "
                    + "added or removed since); starting those " + count + ", not " + spec.shards());
        }
        for (int i = 0; i < count; i++) members.add(shardProcesses(i));
        topology = new FileTopologyStore(topologyFile(), 256);
        writeInitialTopology();
        var cargs = new ArrayList<>(List.of("coordinator", "--node.id=coordinator", "--bind.host=" + spec.host(),
                "--grpc.port=" + spec.coordinatorGrpc(), "--http.port=" + spec.coordinatorHttp(),
                "--resp.port=" + spec.coordinatorResp(), "--topology.file=" + topologyFile(), "--topology.poll.ms=200"));
        cargs.addAll(spec.extraArgs());
        coordinator = node("coordinator", cargs, spec.coordinatorHttp(), spec.host() + ":" + spec.coordinatorGrpc());
        for (NodeProcess p : all()) launch(p);
        for (NodeProcess p : all()) awaitReady(p, timeout);
        if (spec.replicated()) {
            controller = new LocalController(this,
                    controllerSettings != null ? controllerSettings : LocalController.Settings.from(spec), topology);
            controller.start();
            // Not only a primary named in the topology: it may still wait out a lease, and under sync
            // replication it refuses writes until enough replicas follow it. "Up" means every shard takes one.
            controller.awaitTakingWrites(timeout);
        }
    }

    /** Shards "shard-N" in the topology file left by an earlier run with the same members per shard. */
    private int storedShardCount() {
        if (!Files.exists(topologyFile())) return 0;
        try {
            var t = new FileTopologyStore(topologyFile(), 256).current().map(ClusterState::topology).orElse(null);
            if (t == null) return 0;
            int n = 0;
            for (var sh : t.shards()) {
                if (!sh.id().equals(shardId(n)) || sh.members().size() != spec.replicas()) return 0;
                n++;
            }
            return n;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The processes of shard i (not started), on the spec's ports or, past them, on {@link #morePorts}. */
    private List<NodeProcess> shardProcesses(int i) {
        var list = new ArrayList<NodeProcess>();
        for (int j = 0; j < spec.replicas(); j++) {
            int k = i * spec.replicas() + j;
            int[] ports = k < spec.shardGrpc().length ? new int[] {spec.shardGrpc()[k], spec.shardHttp()[k]}
                    : morePorts.ports(k);
            String id = memberId(i, j);
            var args = new ArrayList<>(List.of("shard", "--node.id=" + id, "--bind.host=" + spec.host(),
                    "--grpc.port=" + ports[0], "--http.port=" + ports[1],
                    "--data.dir=" + spec.dataDir().resolve(id)));
            if (spec.replicated()) {
                args.add("--replication.mode=" + spec.replication());
                args.add("--replication.min.in.sync=" + spec.minInSync());
            }
            args.addAll(spec.extraArgs());
            var p = node(id, args, ports[1], spec.host() + ":" + ports[0]);
            list.add(p);
            shards.add(p);
        }
        return list;
    }

    /** The topology entry of shard i: its members at the addresses coordinators reach them by. */
    private ShardInfo shardInfo(int i, long epoch) {
        var ms = new ArrayList<Member>();
        for (int j = 0; j < spec.replicas(); j++) {
            ms.add(new Member(memberId(i, j), addressFor(COORDINATOR, members.get(i).get(j)),
                    j == 0 ? Role.PRIMARY : Role.REPLICA));
        }
        return new ShardInfo(shardId(i), epoch, ms);
    }

    /**
     * Adds or removes shards (the highest-numbered go first) while clients keep working: new shards'
     * processes start and join the topology, the ring's ranges move (see the control loop), and removed
     * shards stop once drained, their data deleted. Blocks until done; progress goes to the log.
     */
    public void scaleTo(int shards, Duration timeout) throws IOException, InterruptedException {
        if (shards < 1) throw new IllegalArgumentException("need at least one shard, got " + shards);
        if (controller == null) {
            throw new IllegalStateException("adding or removing shards needs replicated shards (a log to catch up "
                    + "from): run with --replicas=2 or more");
        }
        int now = shardCount();
        var ring = new ArrayList<String>();
        for (int i = 0; i < shards; i++) ring.add(shardId(i));
        for (int i = now; i < shards; i++) {
            List<NodeProcess> added;
            synchronized (this) {
                added = shardProcesses(i);
                members.add(added);
            }
            for (NodeProcess p : added) launch(p);
            for (NodeProcess p : added) awaitReady(p, timeout);
            controller.addShard(shardInfo(i, 0)); // returns once the new shard takes writes
        }
        try {
            controller.reshard(ring, timeout);
        } finally {
            removeShardsOutsideTheRing();
        }
    }

    /** Stops and deletes the highest-numbered shards that are in no ring (drained, or never used). */
    private void removeShardsOutsideTheRing() throws IOException, InterruptedException {
        var st = controller.state();
        if (st == null || st.resharding() != null) return;
        var inRing = st.topology().ownership().allShards();
        for (int i = shardCount() - 1; i >= 0 && !inRing.contains(shardId(i)); i--) {
            controller.removeShard(shardId(i));
            List<NodeProcess> gone;
            synchronized (this) {
                gone = members.remove(i);
                shards().removeAll(gone);
            }
            for (NodeProcess p : gone) stop(p);
            for (NodeProcess p : gone) deleteTree(spec.dataDir().resolve(p.name()));
        }
    }

    private List<NodeProcess> shards() {
        return shards;
    }

    private static void stop(NodeProcess p) throws InterruptedException {
        p.retired = true;
        if (p.process == null) return;
        p.process.destroy();
        if (!p.process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            p.process.destroyForcibly();
            p.process.waitFor();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path x : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }

    /** The value cache the shards are given through the environment (LIMEDB_VALUE_CACHE_MB), or its default. */
    private static long valueCacheMb() {
        String v = System.getenv(io.limedb.node.config.NodeConfig.VALUE_CACHE_MB.envName());
        try {
            return v == null ? 128 : Math.max(0, Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            return 0; // the shard refuses it, naming the setting
        }
    }

    private NodeProcess node(String name, List<String> args, int httpPort, String grpcAddress) {
        var cmd = new ArrayList<String>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC"));
        // The heap and the JIT's code in transparent huge pages, as in a pod (NodePods); with the
        // launch's GLIBC_TUNABLES the native memory too (bench/README.md, tenth round).
        cmd.add("-XX:+UseTransparentHugePages");
        // Native memory for buffers (Netty) and the shard's value cache (value.cache.mb, outside the heap).
        cmd.add("-XX:MaxDirectMemorySize=" + (512 + valueCacheMb()) + "m");
        // The nodes share this machine, and any memory limit it has, between them: none sizes its caches from
        // that limit as a pod does from its own (MemoryBudget); they take the fixed sizes.
        cmd.add("-Dlimedb.memory.limit.mb=0");
        // Every node of a dev cluster shares this machine's cores: each sizes its event loops, workers
        // and compiler threads for half of them, as a pod would for its CPU limit. On 2 cores the
        // coordinator then runs one event loop, and requests in flight together travel in fewer,
        // larger batches (bench/README.md). -Dlimedb.dev.node.cpus=N on the dev command overrides it.
        cmd.add("-XX:ActiveProcessorCount=" + Integer.getInteger("limedb.dev.node.cpus",
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2)));
        // Netty and protobuf use sun.misc.Unsafe; JDK 24+ warns about it on every start unless told.
        if (Runtime.version().feature() >= 24) cmd.add("--sun-misc-unsafe-memory-access=allow");
        // More JVM options for every node (a profiler agent, GC settings): -Dlimedb.dev.node.jvm="-Xmn64m ..."
        String extra = System.getProperty("limedb.dev.node.jvm", "").strip();
        if (!extra.isEmpty()) cmd.addAll(List.of(extra.split("\\s+")));
        cmd.addAll(List.of("-jar", jar.toString()));
        cmd.addAll(args);
        cmd.add("--parent.pid=" + ProcessHandle.current().pid());
        return new NodeProcess(name, cmd, spec.dataDir().resolve("logs").resolve(name + ".log"), httpPort, grpcAddress);
    }

    /**
     * Writes the first topology of this run: each member at the address coordinators reach it by.
     * A file left by an earlier run of the same shards and members keeps its epochs, primaries and
     * failovers in progress (the controller resumes them and never reuses an epoch); otherwise every
     * shard starts at epoch 0, which the controller bootstraps (a standalone shard is simply primary
     * at epoch 1).
     */
    private void writeInitialTopology() throws IOException {
        var fresh = new ArrayList<ShardInfo>();
        for (int i = 0; i < members.size(); i++) fresh.add(shardInfo(i, spec.replicated() ? 0 : 1));
        ClusterState previous = null;
        try {
            previous = topology.current().filter(c -> sameMembers(c.topology().shards(), fresh)).orElse(null);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            Files.deleteIfExists(topologyFile()); // unreadable: start over
        }
        ClusterState next;
        if (previous == null) {
            next = ClusterState.of(new Topology(1, 256, fresh));
        } else {
            var kept = new ArrayList<ShardInfo>();
            for (int i = 0; i < fresh.size(); i++) {
                var old = previous.topology().shards().get(i);
                var ms = new ArrayList<Member>();
                for (int j = 0; j < old.members().size(); j++) {
                    ms.add(new Member(old.members().get(j).id(), fresh.get(i).members().get(j).address(),
                            old.members().get(j).role()));
                }
                kept.add(new ShardInfo(old.id(), old.epoch(), ms));
            }
            next = new ClusterState(new Topology(previous.topology().version() + 1, 256, kept,
                    previous.topology().ownership()), previous.intents(), previous.resharding());
        }
        String revision = Files.exists(topologyFile()) ? topology.read().version() : "0";
        if (!topology.compareAndSet(revision, next)) {
            throw new IOException("topology file " + topologyFile() + " changed while this cluster started");
        }
    }

    private static boolean sameMembers(List<ShardInfo> a, List<ShardInfo> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).id().equals(b.get(i).id()) || !a.get(i).memberIds().equals(b.get(i).memberIds())) return false;
        }
        return true;
    }

    void launch(NodeProcess p) throws IOException {
        var pb = new ProcessBuilder(p.command);
        // RocksDB's memtables and block cache and the value cache are malloc'd: in huge pages when the
        // kernel gives them on request (transparent_hugepage "madvise" or "always"), as in a pod.
        pb.environment().putIfAbsent(HUGE_PAGES_ENV, HUGE_PAGES_VALUE);
        p.process = pb
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(p.log.toFile()))
                .start();
    }

    /** Waits for the node's /health/ready; fails with the tail of its log if it dies or times out. */
    public void awaitReady(NodeProcess p, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        var req = HttpRequest.newBuilder(URI.create("http://" + spec.host() + ":" + p.httpPort + "/health/ready"))
                .timeout(Duration.ofSeconds(1)).build();
        while (System.nanoTime() < deadline) {
            if (!p.alive()) throw new IllegalStateException(p.name + " exited: " + tail(p.log));
            try {
                if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(p.name + " not ready after " + timeout + ": " + tail(p.log));
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) return "(no log)";
        var lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    public synchronized List<NodeProcess> all() {
        var out = new ArrayList<>(shards);
        if (coordinator != null) out.add(coordinator);
        return out;
    }

    public NodeProcess shard(int i) {
        return shards.get(i);
    }

    public NodeProcess coordinator() {
        return coordinator;
    }

    /** kill -9 */
    public void kill(NodeProcess p) throws InterruptedException {
        if (p.process != null) {
            p.process.destroyForcibly();
            p.process.waitFor();
        }
    }

    /** kill -STOP: the process is frozen (a long GC pause, a hung VM) but not dead. */
    public void pause(NodeProcess p) throws IOException, InterruptedException {
        signal(p, "STOP");
    }

    /** kill -CONT */
    public void resume(NodeProcess p) throws IOException, InterruptedException {
        signal(p, "CONT");
    }

    private static void signal(NodeProcess p, String sig) throws IOException, InterruptedException {
        var k = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start();
        if (k.waitFor() != 0) throw new IOException("kill -" + sig + " " + p.pid() + " failed");
    }

    /** Controller tunables used when the cluster is replicated; set before start. */
    public void controllerSettings(LocalController.Settings s) {
        this.controllerSettings = s;
    }

    /** Starts a stopped node again with the same command (and data) and waits until it is ready. */
    public void restart(NodeProcess p, Duration timeout) throws IOException, InterruptedException {
        if (p.alive()) throw new IllegalStateException(p.name + " is still running");
        launch(p);
        awaitReady(p, timeout);
    }

    /** Process table for people: name, role, pid, addresses. */
    public Map<String, String> describe() {
        var out = new TreeMap<String, String>();
        for (var p : List.copyOf(shards)) {
            String role = controller == null ? "primary" : controller.roleOf(p.name);
            out.put(p.name, String.format("role=%s pid=%d grpc=%s http=%s:%d log=%s", role, p.pid(), p.grpcAddress,
                    spec.host(), p.httpPort, p.log));
        }
        out.put("coordinator", String.format("pid=%d resp=%s:%d http=%s:%d grpc=%s:%d log=%s", coordinator.pid(),
                spec.host(), spec.coordinatorResp(), spec.host(), spec.coordinatorHttp(), spec.host(),
                spec.coordinatorGrpc(), coordinator.log));
        return out;
    }

    /** Stops every process: SIGTERM, then kill -9 after a grace period. */
    @Override
    public void close() throws InterruptedException {
        if (controller != null) controller.close();
        var procs = all();
        for (NodeProcess p : procs) if (p.alive()) p.process.destroy();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (NodeProcess p : procs) {
            if (p.process == null) continue;
            long left = Math.max(0, deadline - System.nanoTime());
            if (!p.process.waitFor(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                p.process.destroyForcibly();
                p.process.waitFor();
            }
        }
    }
}
