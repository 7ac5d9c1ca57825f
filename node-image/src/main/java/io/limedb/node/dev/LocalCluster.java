package io.limedb.node.dev;

import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import io.limedb.node.topology.TopologyJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
    public record Spec(int shards, Path dataDir, String host, int coordinatorHttp, int coordinatorResp,
            int coordinatorGrpc, int[] shardGrpc, int[] shardHttp, List<String> extraArgs) {
        public Spec {
            if (shards < 1) throw new IllegalArgumentException("need at least one shard, got " + shards);
            if (shardGrpc.length != shards || shardHttp.length != shards) {
                throw new IllegalArgumentException("one gRPC and one HTTP port per shard");
            }
        }
    }

    /** One running (or stopped) node process. */
    public static final class NodeProcess {
        final String name;
        final List<String> command;
        final Path log;
        final int httpPort;
        Process process;

        NodeProcess(String name, List<String> command, Path log, int httpPort) {
            this.name = name;
            this.command = command;
            this.log = log;
            this.httpPort = httpPort;
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
    private final List<NodeProcess> shards = new ArrayList<>();
    private NodeProcess coordinator;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    public LocalCluster(Spec spec, Path jar) {
        this.spec = spec;
        this.jar = jar;
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

    /** Starts every process, writes the topology, and waits until all report ready. */
    public void start(Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(spec.dataDir().resolve("logs"));
        writeTopology(1);
        for (int i = 0; i < spec.shards(); i++) {
            var args = new ArrayList<>(List.of("shard", "--node.id=" + shardId(i), "--bind.host=" + spec.host(),
                    "--grpc.port=" + spec.shardGrpc()[i], "--http.port=" + spec.shardHttp()[i],
                    "--data.dir=" + spec.dataDir().resolve(shardId(i))));
            args.addAll(spec.extraArgs());
            shards.add(node(shardId(i), args, spec.shardHttp()[i]));
        }
        var cargs = new ArrayList<>(List.of("coordinator", "--node.id=coordinator", "--bind.host=" + spec.host(),
                "--grpc.port=" + spec.coordinatorGrpc(), "--http.port=" + spec.coordinatorHttp(),
                "--resp.port=" + spec.coordinatorResp(), "--topology.file=" + topologyFile()));
        cargs.addAll(spec.extraArgs());
        coordinator = node("coordinator", cargs, spec.coordinatorHttp());
        for (NodeProcess p : all()) launch(p);
        for (NodeProcess p : all()) awaitReady(p, timeout);
    }

    private NodeProcess node(String name, List<String> args, int httpPort) {
        var cmd = new ArrayList<String>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC"));
        // Netty and protobuf use sun.misc.Unsafe; JDK 24+ warns about it on every start unless told.
        if (Runtime.version().feature() >= 24) cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.addAll(List.of("-jar", jar.toString()));
        cmd.addAll(args);
        cmd.add("--parent.pid=" + ProcessHandle.current().pid());
        return new NodeProcess(name, cmd, spec.dataDir().resolve("logs").resolve(name + ".log"), httpPort);
    }

    private void writeTopology(long version) throws IOException {
        var list = new ArrayList<ShardInfo>();
        for (int i = 0; i < spec.shards(); i++) {
            String address = spec.host() + ":" + spec.shardGrpc()[i];
            list.add(new ShardInfo(shardId(i), 1, List.of(new Member(shardId(i) + "-0", address, Role.PRIMARY))));
        }
        Path tmp = topologyFile().resolveSibling("topology.json.tmp");
        Files.writeString(tmp, TopologyJson.write(new Topology(version, 256, list)));
        Files.move(tmp, topologyFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void launch(NodeProcess p) throws IOException {
        p.process = new ProcessBuilder(p.command)
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

    public List<NodeProcess> all() {
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

    /** Starts a stopped node again with the same command (and data) and waits until it is ready. */
    public void restart(NodeProcess p, Duration timeout) throws IOException, InterruptedException {
        if (p.alive()) throw new IllegalStateException(p.name + " is still running");
        launch(p);
        awaitReady(p, timeout);
    }

    /** Process table for people: name, role, pid, addresses. */
    public Map<String, String> describe() {
        var out = new TreeMap<String, String>();
        for (int i = 0; i < shards.size(); i++) {
            var p = shards.get(i);
            out.put(p.name, String.format("role=primary pid=%d grpc=%s:%d http=%s:%d log=%s", p.pid(), spec.host(),
                    spec.shardGrpc()[i], spec.host(), spec.shardHttp()[i], p.log));
        }
        out.put("coordinator", String.format("pid=%d resp=%s:%d http=%s:%d grpc=%s:%d log=%s", coordinator.pid(),
                spec.host(), spec.coordinatorResp(), spec.host(), spec.coordinatorHttp(), spec.host(),
                spec.coordinatorGrpc(), coordinator.log));
        return out;
    }

    /** Stops every process: SIGTERM, then kill -9 after a grace period. */
    @Override
    public void close() throws InterruptedException {
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
