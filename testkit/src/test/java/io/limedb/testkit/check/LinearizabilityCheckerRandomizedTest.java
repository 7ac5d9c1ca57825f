package io.limedb.testkit.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.testkit.check.LinearizabilityReport.Verdict;
import io.limedb.testkit.check.RegisterSimulation.Params;
import io.limedb.testkit.history.HistoryRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerRandomizedTest {

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    @Test
    void historiesOfALinearizableStorePass() {
        for (long seed = 0; seed < 300; seed++) {
            var params = new Params(2 + (int) (seed % 6), 30, 1 + (int) (seed % 4), 0.05, 0.05, 20, 10);
            var h = RegisterSimulation.generate(seed, params);
            var report = checker.check(h);
            assertThat(report.verdict()).as("seed %d: %s", seed, report.summary()).isEqualTo(Verdict.LINEARIZABLE);
        }
    }

    @Test
    void injectedStaleReadsFail() {
        int mutated = 0;
        for (long seed = 0; seed < 300; seed++) {
            var params = new Params(2 + (int) (seed % 6), 30, 1 + (int) (seed % 4), 0.05, 0.05, 20, 10);
            var stale = RegisterSimulation.withStaleRead(RegisterSimulation.generate(seed, params), new Random(seed));
            if (stale.isEmpty()) continue;
            mutated++;
            var report = checker.check(stale.get());
            assertThat(report.verdict()).as("seed %d", seed).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(report.violation().window()).isNotEmpty();
        }
        assertThat(mutated).as("histories with a stale read injected").isGreaterThan(200);
    }

    @Test
    void realThreadsOnAConcurrentMapPass() throws InterruptedException {
        var recorder = new HistoryRecorder();
        var store = new ConcurrentHashMap<String, String>();
        int clients = 8;
        var start = new CountDownLatch(1);
        var threads = new ArrayList<Thread>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().start(() -> {
                var random = new Random(client);
                awaitQuietly(start);
                for (int j = 0; j < 1_000; j++) {
                    var key = "k" + random.nextInt(5);
                    switch (random.nextInt(3)) {
                        case 0 -> {
                            var value = client + "-" + j;
                            var p = recorder.write(client, key, value);
                            store.put(key, value);
                            p.ok();
                        }
                        case 1 -> {
                            var p = recorder.delete(client, key);
                            store.remove(key);
                            p.ok();
                        }
                        default -> {
                            var p = recorder.read(client, key);
                            p.ok(store.get(key));
                        }
                    }
                }
            }));
        }
        start.countDown();
        for (var t : threads) t.join();
        var history = recorder.snapshot();
        assertThat(history.size()).isEqualTo(clients * 1_000);
        var report = checker.check(history);
        assertThat(report.verdict()).as(report.summary()).isEqualTo(Verdict.LINEARIZABLE);
        // The same history with one stale read must fail.
        var stale = RegisterSimulation.withStaleRead(history, new Random(7)).orElseThrow();
        assertThat(checker.check(stale).verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void tenClientsTwoThousandOpsFiftyKeysCheckQuickly() {
        var params = new Params(10, 2_000, 50, 0.01, 0.01, 50, 5);
        var history = RegisterSimulation.generate(42, params);
        assertThat(history.size()).isEqualTo(20_000);
        var fast = new LinearizabilityChecker(LinearizabilityChecker.DEFAULT_MAX_CONFIGURATIONS_PER_KEY, Duration.ofSeconds(30));
        fast.check(RegisterSimulation.generate(1, new Params(4, 200, 5, 0.01, 0.01, 50, 5))); // warm up
        long start = System.nanoTime();
        var report = fast.check(history);
        var elapsed = Duration.ofNanos(System.nanoTime() - start);
        assertThat(report.verdict()).as(report.summary()).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(report.keysChecked()).isEqualTo(50);
        assertThat(elapsed).as("check time").isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void highContentionOnOneKeyChecksQuickly() {
        var params = new Params(10, 200, 1, 0.02, 0.02, 50, 2);
        var history = RegisterSimulation.generate(3, params);
        long start = System.nanoTime();
        var report = checker.check(history);
        assertThat(report.verdict()).as(report.summary()).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
