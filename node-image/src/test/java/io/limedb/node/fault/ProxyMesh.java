package io.limedb.node.fault;

import io.limedb.node.dev.LocalCluster;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.testkit.net.FaultProxy;
import io.limedb.testkit.net.FaultProxy.Direction;
import io.limedb.testkit.net.FaultProxy.Mode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link FaultProxy} on every link of a {@link LocalCluster}: for each process that dials (every
 * member, the coordinator, the controller) and each member it may dial, one proxy, which the cluster
 * hands out through its {@link LocalCluster#links links} hook. A test then cuts, blackholes or delays
 * the link between two processes, one way or both, or isolates a member, and heals.
 *
 * <p>"From a to b" is the proxy a dials to reach b: a is its client. A fault "between a and b" is
 * set on both a's proxy to b and b's proxy to a; {@link #drop} cuts one direction of traffic instead.
 */
final class ProxyMesh implements AutoCloseable {
    private record Link(String from, String to) {}

    private final Map<Link, FaultProxy> proxies = new LinkedHashMap<>();
    private final Map<String, String> members = new LinkedHashMap<>(); // name -> real gRPC address
    private final Set<Integer> clusterPorts = new HashSet<>();

    private ProxyMesh(LocalCluster cluster) throws IOException {
        var spec = cluster.spec();
        for (int i = 0; i < spec.shards(); i++) {
            for (int j = 0; j < spec.replicas(); j++) {
                members.put(cluster.memberId(i, j), spec.host() + ":" + spec.shardGrpc()[i * spec.replicas() + j]);
            }
        }
        for (int p : spec.shardGrpc()) clusterPorts.add(p);
        for (int p : spec.shardHttp()) clusterPorts.add(p);
        clusterPorts.addAll(List.of(spec.coordinatorGrpc(), spec.coordinatorHttp(), spec.coordinatorResp()));
        var dialers = new ArrayList<>(members.keySet());
        dialers.addAll(List.of(LocalCluster.COORDINATOR, LocalCluster.CONTROLLER));
        try {
            for (String from : dialers) {
                for (var to : members.entrySet()) {
                    if (!from.equals(to.getKey())) proxies.put(new Link(from, to.getKey()), open(to.getValue()));
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Creates the proxies and routes the cluster's links through them; call before {@code cluster.start}. */
    static ProxyMesh install(LocalCluster cluster) throws IOException {
        var mesh = new ProxyMesh(cluster);
        cluster.links(mesh::address);
        return mesh;
    }

    /** A proxy on a port none of the cluster's processes is about to bind (they were picked beforehand). */
    private FaultProxy open(String target) throws IOException {
        for (int attempt = 0; attempt < 10; attempt++) {
            var p = FaultProxy.start(target);
            if (!clusterPorts.contains(p.port())) return p;
            p.close();
        }
        throw new IOException("no free proxy port apart from the cluster's after 10 attempts");
    }

    private synchronized String address(String from, NodeProcess to) {
        var link = new Link(from, to.name());
        var p = proxies.get(link);
        if (p == null) {
            try {
                p = open(to.grpcAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            proxies.put(link, p);
        }
        return p.address();
    }

    /** The proxy {@code from} dials to reach {@code to}. */
    synchronized FaultProxy proxy(String from, String to) {
        var p = proxies.get(new Link(from, to));
        if (p == null) throw new IllegalArgumentException("no link from " + from + " to " + to);
        return p;
    }

    /** Sets {@code mode} on both links between a and b (those that exist: nobody dials the controller). */
    synchronized void between(String a, String b, Mode mode) {
        for (var link : List.of(new Link(a, b), new Link(b, a))) {
            var p = proxies.get(link);
            if (p != null) p.mode(mode);
        }
    }

    /** Connections between a and b are refused, open ones reset. */
    void cut(String a, String b) {
        between(a, b, Mode.REFUSE);
    }

    /** Nothing gets through between a and b, and nobody is told. */
    void blackhole(String a, String b) {
        between(a, b, Mode.BLACKHOLE);
    }

    synchronized void delay(String a, String b, Duration delay) {
        for (var link : List.of(new Link(a, b), new Link(b, a))) {
            var p = proxies.get(link);
            if (p != null) p.delay(delay);
        }
    }

    /**
     * Bytes that {@code from} sends to {@code to} are swallowed, on connections either of them opened,
     * while bytes from {@code to} to {@code from} still flow: an asymmetric partition.
     */
    synchronized void drop(String from, String to) {
        var out = proxies.get(new Link(from, to));
        if (out != null) out.blackhole(Direction.CLIENT_TO_SERVER);
        var in = proxies.get(new Link(to, from));
        if (in != null) in.blackhole(Direction.SERVER_TO_CLIENT);
    }

    /** {@code mode} (REFUSE or BLACKHOLE) on every link between {@code member} and each of {@code others}. */
    void isolate(String member, Collection<String> others, Mode mode) {
        if (mode != Mode.REFUSE && mode != Mode.BLACKHOLE) throw new IllegalArgumentException("isolate with " + mode);
        for (String o : others) between(member, o, mode);
    }

    void heal(String a, String b) {
        between(a, b, Mode.PASS);
    }

    synchronized void healAll() {
        for (var p : proxies.values()) if (p.mode() != Mode.PASS) p.heal();
    }

    /** The links that are not passing, e.g. {@code controller->shard-0-0 REFUSE}; "none" if all pass. */
    synchronized String faults() {
        var out = new TreeMap<String, String>();
        proxies.forEach((l, p) -> {
            if (p.mode() != Mode.PASS) out.put(l.from() + "->" + l.to(), p.mode() + (p.mode() == Mode.DELAY ? " " + p.delay().toMillis() + " ms" : ""));
        });
        if (out.isEmpty()) return "none";
        var sb = new StringBuilder();
        out.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
        return sb.toString();
    }

    @Override
    public synchronized void close() {
        proxies.values().forEach(FaultProxy::close);
    }
}
