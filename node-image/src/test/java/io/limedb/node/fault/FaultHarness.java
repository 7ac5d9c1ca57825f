package io.limedb.node.fault;

import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.MemberRole;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.node.dev.LocalCluster;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.node.dev.LocalController;
import io.limedb.node.it.TestClusterAccess;
import io.limedb.testkit.check.CounterChecker;
import io.limedb.testkit.check.CounterReport;
import io.limedb.testkit.check.LinearizabilityChecker;
import io.limedb.testkit.check.LinearizabilityReport;
import io.limedb.testkit.check.SetChecker;
import io.limedb.testkit.check.SetReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every fault scenario shares: one shard of 3 members (sync or async, min-in-sync 2) under the
 * local controller, optionally with a {@link ProxyMesh} on every link; the {@link Workload} through
 * the coordinator; and at the end, reading back, the checkers and one {@link FaultReport}.
 */
abstract class FaultHarness {
    static final int CLIENTS = 10;
    static final int REGISTERS = 8;

    @TempDir
    Path dir;
    LocalCluster cluster;
    Workload workload;
    ProxyMesh mesh;
    StaleClient stale;
    FaultReport report;

    /** What the checkers found at the end of a run, and the figures reported. */
    record Checked(SetReport set, LinearizabilityReport lin, CounterReport counters, FaultReport.Figures figures) {}

    @BeforeEach
    void name(TestInfo info) {
        report = new FaultReport(getClass().getSimpleName() + "." + info.getTestMethod().orElseThrow().getName());
    }

    @AfterEach
    void down() throws Exception {
        if (stale != null) stale.close();
        if (workload != null) workload.close();
        if (cluster != null) {
            for (var p : cluster.all()) if (p.alive()) cluster.resume(p);
            cluster.close();
            keepLogs();
        }
        if (mesh != null) mesh.close();
    }

    /** The processes' logs outlive the temporary directory, next to the report. */
    private void keepLogs() throws java.io.IOException {
        var to = FaultReport.file().toAbsolutePath().resolveSibling(
                FaultReport.file().getFileName().toString().replace(".txt", "") + "-logs").resolve(report.scenario());
        java.nio.file.Files.createDirectories(to);
        for (var p : cluster.all()) {
            if (java.nio.file.Files.exists(p.log())) {
                java.nio.file.Files.copy(p.log(), to.resolve(p.log().getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Starts the cluster (with a proxy on every link if asked) and the workload. */
    void up(String mode, long restartDelayMs, boolean proxies) throws Exception {
        // Default deadlines: the coordinator's (rpc.deadline.ms) outlasts the replication ack timeout, and
        // the clients' outlasts the coordinator's, so each answer is the server's own verdict.
        var spec = TestClusterAccess.spec(dir, 1, 3, mode, 2, List.of());
        cluster = new LocalCluster(spec, TestClusterAccess.jar());
        if (proxies) mesh = ProxyMesh.install(cluster);
        cluster.controllerSettings(LocalController.Settings.from(spec).withRestartDelay(restartDelayMs));
        long t0 = System.nanoTime();
        cluster.start(Duration.ofSeconds(60));
        report.line("cluster up in " + ms(System.nanoTime() - t0) + " ms (" + mode + (proxies ? ", a proxy on every link" : "") + ")");
        workload = new Workload(spec.coordinatorGrpc(), CLIENTS, REGISTERS, mode.equals("async"));
        workload.start();
    }

    NodeProcess primary() {
        return cluster.controller().primary(0);
    }

    List<NodeProcess> othersThan(NodeProcess p) {
        return cluster.members(0).stream().filter(m -> m != p).toList();
    }

    /** A failover the controller carried out, as the fault tests see it (bootstraps left out). */
    record Failover(String from, String to, long fromEpoch, long toEpoch, long detectedNanos, long promotedNanos,
            long expectedLossRecords) {}

    /** The controller's failovers so far, oldest first. */
    List<Failover> failovers() {
        return cluster.controller().failovers().stream().filter(f -> f.fromEpoch() > 0)
                .map(f -> new Failover(f.from(), f.to(), f.fromEpoch(), f.toEpoch(), f.detectedNanos(), f.promotedNanos(),
                        f.expectedLossRecords()))
                .toList();
    }

    /**
     * Stops the clients (and the stale client, if any), reads back every set key and counter, runs
     * the checkers and reports. Asserts nothing: see {@link #assertSafe}.
     *
     * @param registers  whether to check the registers for linearizability
     * @param faultNanos when the fault began, for the failover time; 0 if none
     */
    Checked stopAndCheck(boolean registers, long faultNanos) throws Exception {
        if (stale != null) stale.stop();
        workload.stop();
        long t0 = System.nanoTime();
        var set = SetChecker.check(workload.sets.snapshot(), workload.readBackSets(60_000));
        var counters = CounterChecker.check(workload.counters.snapshot(), workload.readBackCounters(60_000));
        var lin = registers ? new LinearizabilityChecker().check(workload.regs.snapshot()) : null;
        report.line("read back and checked in " + ms(System.nanoTime() - t0) + " ms");
        if (stale != null) report.line(stale.summary());
        var figures = report.summarize(workload, set, lin, counters, failovers(), faultNanos);
        return new Checked(set, lin, counters, figures);
    }

    /** No acknowledged write lost, nothing applied that was said not to be, registers linearizable, counters exact. */
    static void assertSafe(SoftAssertions soft, Checked c) {
        soft.assertThat(c.set().lost()).as("acknowledged writes lost").isEmpty();
        soft.assertThat(c.set().unexpected()).as("writes present that were refused or never made").isEmpty();
        if (c.lin() != null) soft.assertThat(c.lin().ok()).as("registers linearizable: %s", c.lin().summary()).isTrue();
        soft.assertThat(c.counters().ok()).as("counters within their outcomes:%n%s", c.counters().summary()).isTrue();
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    static void sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
    }

    /** A member's own status, straight from its port (never through a proxy); null if it does not answer. */
    static StatusResponse status(NodeProcess m) {
        if (m == null || !m.alive()) return null;
        var ch = NettyChannelBuilder.forTarget(m.grpcAddress()).usePlaintext().build();
        try {
            return ReplicationGrpc.newBlockingStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            return null;
        } finally {
            ch.shutdownNow();
        }
    }

    /**
     * Whether the shard has settled: the controller's primary is primary at the controller's epoch
     * and every other member follows it at that epoch, connected.
     */
    boolean settled() {
        var p = primary();
        var ps = status(p);
        if (ps == null || ps.getRole() != MemberRole.PRIMARY || ps.getEpoch() != cluster.controller().epoch(0)) return false;
        for (var m : othersThan(p)) {
            var s = status(m);
            if (s == null || s.getRole() != MemberRole.REPLICA || s.getEpoch() != ps.getEpoch() || !s.getConnected()) return false;
        }
        return true;
    }
}
