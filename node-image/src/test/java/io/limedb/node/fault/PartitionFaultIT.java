package io.limedb.node.fault;

import io.limedb.node.dev.LocalCluster;
import io.limedb.node.dev.LocalCluster.NodeProcess;
import io.limedb.testkit.net.FaultProxy.Mode;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Invariants 1, 2 and 5 under network partitions, with a proxy on every link ({@link ProxyMesh}): a
 * primary cut off from the controller and its replicas while the coordinator still reaches it; the
 * controller cut off from a healthy primary; replicas whose acknowledgements, or whose records, are
 * dropped one way. The first two with refused connections and with blackholes. Until the heal, a
 * {@link StaleClient} keeps reading and writing the registers on the first primary at its first
 * epoch, as a coordinator whose topology stopped updating would.
 */
class PartitionFaultIT extends FaultHarness {
    /** A fault is held at least this long, whether or not it leads to a failover. */
    private static final long HOLD_MS = 8000;
    /** After a failover the fault is held this much longer: the deposed primary is still being talked to. */
    private static final long HOLD_AFTER_FAILOVER_MS = 6000;
    private static final long SETTLE_MS = 30_000;

    /** (a) The primary loses the controller and both replicas; the coordinator still reaches it. */
    @Test
    void primaryCutOffFromControllerAndReplicas() throws Exception {
        isolatedPrimary(Mode.REFUSE);
    }

    /** (a) with blackholes: the deposed primary's replication streams and the controller's calls hang. */
    @Test
    void primaryBlackholedFromControllerAndReplicas() throws Exception {
        isolatedPrimary(Mode.BLACKHOLE);
    }

    /** (b) Only the controller loses a healthy primary. */
    @Test
    void controllerCutOffFromHealthyPrimary() throws Exception {
        isolatedController(Mode.REFUSE);
    }

    /** (b) with a blackhole. */
    @Test
    void controllerBlackholedFromHealthyPrimary() throws Exception {
        isolatedController(Mode.BLACKHOLE);
    }

    /** (c) The primary's records reach the replicas, their acknowledgements never come back. */
    @Test
    void replicaAcknowledgementsDropped() throws Exception {
        var run = partition("replicas' acknowledgements (and hellos) to the primary dropped; its records still flow",
                old -> othersThan(old).forEach(r -> mesh.drop(r.name(), old.name())));
        verify(run, false);
    }

    /** (c) the other way round: what the replicas send arrives, the primary's records never do. */
    @Test
    void recordsToReplicasDropped() throws Exception {
        var run = partition("primary's records to the replicas dropped; their hellos and acknowledgements still flow",
                old -> othersThan(old).forEach(r -> mesh.drop(old.name(), r.name())));
        verify(run, false);
    }

    private void isolatedPrimary(Mode mode) throws Exception {
        var run = partition("primary isolated (" + mode + ") from the controller and both replicas; the coordinator still reaches it",
                old -> {
                    var others = new ArrayList<String>();
                    others.add(LocalCluster.CONTROLLER);
                    othersThan(old).forEach(r -> others.add(r.name()));
                    mesh.isolate(old.name(), others, mode);
                });
        verify(run, true);
    }

    private void isolatedController(Mode mode) throws Exception {
        var run = partition("controller cut off (" + mode + ") from a healthy primary; replicas and coordinator reach it",
                old -> mesh.between(LocalCluster.CONTROLLER, old.name(), mode));
        verify(run, false);
    }

    /** How a partition went, seen from the primary it started with. */
    private record Run(NodeProcess old, long oldEpoch, long faultNanos, Failover failover, long commitAtFence,
            long commitAtHeal, long lastAtHeal, long discarded, boolean settled) {
        /** Whether a failover took the primary role from {@code old}. */
        boolean deposed() {
            return failover != null && failover.from().equals(old.name());
        }

        /**
         * Records the old primary had committed (acknowledged) at the heal that are not in the new history:
         * it rejoined keeping its log up to {@code lastAtHeal - discarded} only. -1 if not known.
         */
        long committedOutsideNewHistory() {
            if (commitAtHeal < 0 || lastAtHeal < 0 || discarded < 0) return -1;
            return Math.max(0, commitAtHeal - (lastAtHeal - discarded));
        }
    }

    /**
     * Starts the cluster behind proxies, lets the workload and a stale client on the primary run,
     * injects the fault, holds it ({@link #HOLD_MS}, longer after a failover), heals every link and
     * waits for the shard to settle.
     */
    private Run partition(String what, Consumer<NodeProcess> inject) throws Exception {
        up("sync", -1, true);
        sleep(4000);
        NodeProcess old = primary();
        long oldEpoch = cluster.controller().epoch(0);
        int before = failovers().size();
        stale = new StaleClient(old, oldEpoch, workload.regs, REGISTERS);
        stale.start();
        sleep(500);
        report.line("fault: " + what);
        long fault = System.nanoTime();
        inject.accept(old);
        report.line("links: " + mesh.faults());
        Failover failover = null;
        long commitAtFence = -1;
        long holdUntil = fault + TimeUnit.MILLISECONDS.toNanos(HOLD_MS);
        while (System.nanoTime() < holdUntil) {
            if (failover == null && failovers().size() > before) {
                failover = failovers().get(before);
                commitAtFence = commitSeq(old);
                holdUntil = Math.max(holdUntil, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOLD_AFTER_FAILOVER_MS));
            }
            sleep(50);
        }
        // The stale client stops before the heal: from here on nothing writes to the old primary, so
        // whatever it drops when it rejoins was in its log at this point.
        stale.stop();
        var atHeal = status(old);
        mesh.healAll();
        long healed = System.nanoTime();
        report.line("healed " + ms(healed - fault) + " ms after the fault");
        boolean settled = false;
        while (!settled && System.nanoTime() - healed < TimeUnit.MILLISECONDS.toNanos(SETTLE_MS)) {
            settled = settled();
            if (!settled) sleep(250);
        }
        report.line(settled ? "settled " + ms(System.nanoTime() - healed) + " ms after healing"
                : "NOT settled " + SETTLE_MS + " ms after healing: " + members());
        var after = status(old);
        sleep(1500);
        return new Run(old, oldEpoch, fault, failover, commitAtFence, atHeal == null ? -1 : atHeal.getCommitSeq(),
                atHeal == null ? -1 : atHeal.getLastSeq(), after == null ? -1 : after.getDiscardedRecords(), settled);
    }

    /** Checks, reports what the deposed primary did after the fence, and asserts. */
    private void verify(Run run, boolean failoverExpected) throws Exception {
        long staleAcked = 0, commitsAfterFence = 0;
        if (run.deposed()) {
            long fenced = run.failover().promotedNanos();
            staleAcked = stale.acknowledgedWritesInvokedAfter(fenced);
            if (run.commitAtFence() >= 0 && run.commitAtHeal() >= 0) commitsAfterFence = run.commitAtHeal() - run.commitAtFence();
            report.line("deposed primary " + run.old().name() + " (epoch " + run.oldEpoch() + ") after the new primary's promotion: "
                    + "acknowledged " + staleAcked + " direct writes at its old epoch, served " + stale.readsServedAfter(fenced)
                    + " direct reads; its commit seq " + run.commitAtFence() + " at the failover, " + run.commitAtHeal()
                    + " at the heal (" + commitsAfterFence + " records acknowledged after the fence)");
        }
        long outside = run.committedOutsideNewHistory();
        if (run.discarded() > 0 || outside > 0) {
            report.line(run.old().name() + " rejoined discarding " + run.discarded() + " record(s) after seq "
                    + (run.lastAtHeal() - run.discarded()) + "; it had committed up to " + run.commitAtHeal() + ": "
                    + outside + " acknowledged record(s) are not in the new primary's history");
        }
        if (!run.deposed()) {
            report.line(run.failover() == null ? "no failover: " + run.old().name() + " stayed primary at epoch " + run.oldEpoch()
                    : "failover of another member: " + run.failover());
        }
        var c = stopAndCheck(true, run.faultNanos());
        var soft = new SoftAssertions();
        assertSafe(soft, c);
        soft.assertThat(run.settled()).as("the shard settled after healing").isTrue();
        soft.assertThat(staleAcked).as("writes the deposed primary acknowledged after the fence").isZero();
        soft.assertThat(commitsAfterFence).as("records the deposed primary committed after the fence").isZero();
        soft.assertThat(outside).as("records the old primary committed that the new history lacks").isNotPositive();
        if (failoverExpected) soft.assertThat(run.deposed()).as("the isolated primary was replaced").isTrue();
        soft.assertAll();
    }

    private static long commitSeq(NodeProcess m) {
        var s = status(m);
        return s == null ? -1 : s.getCommitSeq();
    }

    /** Each member's role, epoch, connection and position, as it says itself. */
    private String members() {
        var sb = new StringBuilder();
        for (var m : cluster.members(0)) {
            var s = status(m);
            sb.append(m.name()).append('=').append(s == null ? "no answer" : s.getRole() + "@" + s.getEpoch()
                    + (s.getConnected() ? " connected" : "") + " last=" + s.getLastSeq() + " commit=" + s.getCommitSeq()).append("; ");
        }
        return sb + "controller primary=" + (primary() == null ? "-" : primary().name()) + "@" + cluster.controller().epoch(0);
    }
}
