package io.limedb.node.fault;

import io.limedb.node.fault.FaultHarness.Failover;
import io.limedb.testkit.check.Availability;
import io.limedb.testkit.check.CounterReport;
import io.limedb.testkit.check.LinearizabilityReport;
import io.limedb.testkit.check.SetReport;
import io.limedb.testkit.history.OpKind;
import io.limedb.testkit.history.Operation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What the fault tests saw, for people: one file per run, {@code target/fault-report-<time>.txt}
 * (or the path in {@code -Dlimedb.fault.report}), and the same lines on stdout prefixed
 * {@code FAULT-REPORT}; the processes' logs of each scenario go to {@code fault-report-<time>-logs/}. Each scenario reports the same figures: outcomes and losses of every
 * workload, availability, failover time, and the checkers' verdicts.
 */
final class FaultReport {
    private static final Path FILE = Path.of(System.getProperty("limedb.fault.report",
            "target/fault-report-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".txt"));

    /**
     * The figures of one scenario, as reported. Times count from the fault, -1 when it did not happen:
     * the first failover's promotion, and the first acknowledgement of a write invoked after the fault.
     */
    record Figures(long acknowledged, long failed, long unknown, long lost, boolean linearizable, boolean countersOk,
            Availability availability, long promotedMs, long firstAckMs) {}

    private final String scenario;

    FaultReport(String scenario) {
        this.scenario = scenario;
    }

    String scenario() {
        return scenario;
    }

    static Path file() {
        return FILE;
    }

    void line(String text) {
        for (String l : text.split("\n")) {
            String out = "[" + scenario + "] " + l;
            System.out.println("FAULT-REPORT " + out);
            try {
                Files.createDirectories(FILE.toAbsolutePath().getParent());
                Files.writeString(FILE, out + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Reports the standard figures of a finished run.
     *
     * @param lin        null when the registers were not checked
     * @param faultNanos when the fault was injected (the failover time counts from there); 0 if none
     */
    Figures summarize(Workload w, SetReport set, LinearizabilityReport lin, CounterReport counters,
            List<Failover> failovers, long faultNanos) {
        line("set: " + set.summary());
        long origin = faultNanos > 0 ? faultNanos : w.startNanos();
        String originName = faultNanos > 0 ? "the fault" : "the start";
        var lostKeys = new java.util.HashSet<>(set.lost().subList(0, Math.min(5, set.lost().size())));
        for (Operation op : w.sets.snapshot().operations()) {
            if (lostKeys.contains(op.key())) {
                line(String.format(Locale.ROOT, "  lost %s: invoked %+.3f s, acknowledged %+.3f s after %s", op.key(),
                        (op.invokeNanos() - origin) / 1e9, (op.returnNanos() - origin) / 1e9, originName));
            }
        }
        line("registers: " + registerCounts(w) + "; " + (lin == null ? "not checked"
                : lin.summary().lines().findFirst().orElse("")));
        if (lin != null && !lin.ok()) lin.summary().lines().skip(1).limit(12).forEach(l -> line("  " + l));
        line("counters: acknowledged=" + counters.acknowledged() + " failed=" + counters.failed() + " unknown="
                + counters.unknown() + " lost=" + counters.lost() + " " + (counters.ok() ? "ok" : "VIOLATED"));
        for (var c : counters.counters()) line("  " + c.summary());

        // Measured from the first acknowledged write: a workload warming up is not the store being unavailable.
        long from = Math.min(w.firstAckAfter(w.startNanos()), w.stopNanos());
        var a = Availability.of(w.histories(), from, w.stopNanos());
        line(String.format(Locale.ROOT, "availability: %.1f%% of %d operations acknowledged; longest gap without an "
                        + "acknowledged write %d ms (from %+.1f s after %s)", 100 * a.share(), a.operations(),
                TimeUnit.NANOSECONDS.toMillis(a.longestGapNanos()), (a.gapStartNanos() - origin) / 1e9, originName));

        long firstAckMs = -1, promotedMs = -1;
        if (faultNanos > 0) {
            long first = w.firstAckAfter(faultNanos);
            firstAckMs = first == Long.MAX_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(first - faultNanos);
            for (var f : failovers) {
                if (f.promotedNanos() > faultNanos) {
                    promotedMs = TimeUnit.NANOSECONDS.toMillis(f.promotedNanos() - faultNanos);
                    break;
                }
            }
        }
        var fo = new StringBuilder("failover: " + failovers.size() + " failover(s)");
        for (var f : failovers) {
            fo.append("; ").append(f.from()).append(" -> ").append(f.to()).append(" epoch ").append(f.fromEpoch())
                    .append("->").append(f.toEpoch()).append(" promoted ")
                    .append(TimeUnit.NANOSECONDS.toMillis(f.promotedNanos() - f.detectedNanos())).append(" ms after detection");
            if (faultNanos > 0) fo.append(", ").append(TimeUnit.NANOSECONDS.toMillis(f.promotedNanos() - faultNanos)).append(" ms after the fault");
        }
        if (faultNanos > 0) fo.append("; first write invoked after the fault acknowledged after ").append(firstAckMs < 0 ? "never" : firstAckMs + " ms");
        line(fo.toString());

        long acked = set.acknowledged() + counters.acknowledged(), failed = set.failed() + counters.failed();
        long unknown = set.unknown() + counters.unknown();
        for (Operation op : w.regs.snapshot().operations()) {
            if (op.kind() != OpKind.WRITE) continue;
            switch (op.outcome()) {
                case OK -> acked++;
                case FAIL -> failed++;
                case UNKNOWN -> unknown++;
            }
        }
        long lost = set.lost().size() + counters.lost();
        boolean linOk = lin == null || lin.ok();
        line(String.format(Locale.ROOT, "SUMMARY writes acknowledged=%d failed=%d unknown=%d lost=%d unexpected=%d "
                        + "linearizable=%s counters=%s availability=%.1f%% gap=%dms promoted=%s firstAck=%s", acked, failed, unknown,
                lost, set.unexpected().size(), lin == null ? "unchecked" : linOk ? "yes" : "NO", counters.ok() ? "ok" : "VIOLATED",
                100 * a.share(), TimeUnit.NANOSECONDS.toMillis(a.longestGapNanos()), promotedMs < 0 ? "-" : promotedMs + "ms",
                firstAckMs < 0 ? "-" : firstAckMs + "ms"));
        return new Figures(acked, failed, unknown, lost, linOk, counters.ok(), a, promotedMs, firstAckMs);
    }

    private static String registerCounts(Workload w) {
        long wOk = 0, wFail = 0, wUnknown = 0, rOk = 0, rFail = 0;
        for (Operation op : w.regs.snapshot().operations()) {
            boolean write = op.kind() == OpKind.WRITE;
            switch (op.outcome()) {
                case OK -> {
                    if (write) wOk++;
                    else rOk++;
                }
                case FAIL -> {
                    if (write) wFail++;
                    else rFail++;
                }
                case UNKNOWN -> {
                    if (write) wUnknown++;
                }
            }
        }
        return "writes acknowledged=" + wOk + " failed=" + wFail + " unknown=" + wUnknown + ", reads ok=" + rOk + " failed=" + rFail;
    }
}
