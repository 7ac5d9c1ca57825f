package io.limedb.testkit.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HistoryRecorderTest {

    private final AtomicLong clock = new AtomicLong(1_000);
    private final HistoryRecorder recorder = new HistoryRecorder(() -> clock.getAndAdd(10));

    @Test
    void recordsOutcomesWithTimesFromTheClock() {
        var w = recorder.write(1, "k", "v");        // invoke 1000
        var r = recorder.read(2, "k");              // invoke 1010
        var d = recorder.delete(3, "k");            // invoke 1020
        var f = recorder.write(4, "k", "x");        // invoke 1030
        w.ok();                                     // return 1040
        r.ok("v");                                  // return 1050
        d.unknown();
        f.fail();                                   // return 1060
        var ops = recorder.snapshot().operations();
        assertThat(ops).containsExactly(
                new Operation(0, 1, OpKind.WRITE, "k", "v", 1000, 1040, Outcome.OK),
                new Operation(1, 2, OpKind.READ, "k", "v", 1010, 1050, Outcome.OK),
                new Operation(2, 3, OpKind.DELETE, "k", null, 1020, Operation.NEVER, Outcome.UNKNOWN),
                new Operation(3, 4, OpKind.WRITE, "k", "x", 1030, 1060, Outcome.FAIL));
    }

    @Test
    void readOfAbsentKeyRecordsNull() {
        recorder.read(1, "k").ok(null);
        assertThat(recorder.snapshot().operations().getFirst().value()).isNull();
    }

    @Test
    void failedReadRecordsNoValue() {
        recorder.read(1, "k").fail();
        assertThat(recorder.snapshot().operations().getFirst())
                .extracting(Operation::value, Operation::outcome).containsExactly(null, Outcome.FAIL);
    }

    @Test
    void pendingOperationsAppearAsUnknownUntilCompleted() {
        var p = recorder.write(1, "k", "v");
        assertThat(recorder.snapshot().operations().getFirst().outcome()).isEqualTo(Outcome.UNKNOWN);
        p.ok();
        assertThat(recorder.snapshot().operations().getFirst().outcome()).isEqualTo(Outcome.OK);
    }

    @Test
    void completingTwiceOrWithTheWrongMethodIsAnError() {
        var w = recorder.write(1, "k", "v");
        w.ok();
        assertThatThrownBy(w::fail).isInstanceOf(IllegalStateException.class).hasMessageContaining("already completed");
        assertThatThrownBy(() -> recorder.read(1, "k").ok())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("ok(value)");
        assertThatThrownBy(() -> recorder.write(1, "k", "v").ok("v"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("ok()");
    }

    @Test
    void rejectsInconsistentInvocations() {
        assertThatThrownBy(() -> recorder.write(1, "k", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> recorder.invoke(1, OpKind.READ, "k", "v")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> recorder.invoke(1, OpKind.DELETE, "k", "v")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void returnNeverPrecedesInvokeEvenIfTheClockDoes() {
        var backwards = new AtomicLong(100);
        var r = new HistoryRecorder(() -> backwards.getAndAdd(-10));
        r.write(1, "k", "v").ok();
        var op = r.snapshot().operations().getFirst();
        assertThat(op.returnNanos()).isEqualTo(op.invokeNanos());
    }

    @Test
    void manyThreadsRecordEveryOperationOnceWhileSnapshotsRun() throws InterruptedException {
        var real = new HistoryRecorder();
        int clients = 10, perClient = 2_000;
        var start = new CountDownLatch(1);
        var threads = new ArrayList<Thread>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int j = 0; j < perClient; j++) {
                    var p = real.write(client, "k" + (j % 7), client + "-" + j);
                    if (j % 3 == 0) p.unknown();
                    else p.ok();
                }
            }));
        }
        start.countDown();
        for (int i = 0; i < 20; i++) {
            var partial = real.snapshot();
            assertThat(new HashSet<>(partial.operations().stream().map(Operation::id).toList()))
                    .hasSize(partial.size());
        }
        for (var t : threads) t.join();
        var history = real.snapshot();
        assertThat(history.size()).isEqualTo(clients * perClient);
        assertThat(history.operations().stream().map(Operation::id).distinct().count()).isEqualTo(clients * perClient);
        assertThat(history.operations()).isSortedAccordingTo(
                (a, b) -> Long.compare(a.invokeNanos(), b.invokeNanos()));
        for (int c = 0; c < clients; c++) {
            int client = c;
            var mine = history.operations().stream().filter(op -> op.client() == client && op.returned()).toList();
            for (int i = 1; i < mine.size(); i++) {
                assertThat(mine.get(i - 1).returnNanos()).isLessThanOrEqualTo(mine.get(i).invokeNanos());
            }
        }
    }
}
