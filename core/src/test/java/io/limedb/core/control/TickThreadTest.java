package io.limedb.core.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TickThreadTest {

    @Test
    void aFailingStepIsReportedOncePerErrorAndTheTicksGoOn() throws InterruptedException {
        var ticks = new AtomicInteger();
        List<String> reported = new CopyOnWriteArrayList<>();
        try (var t = new TickThread("test", 1, () -> {
            int n = ticks.incrementAndGet();
            if (n >= 3 && n < 10) throw new IllegalStateException("store down");
        }, reported::add)) {
            t.start();
            for (int i = 0; i < 5_000 && ticks.get() < 20; i++) Thread.sleep(1);
            assertThat(ticks.get()).isGreaterThanOrEqualTo(20);
            assertThat(reported).containsExactly("java.lang.IllegalStateException: store down", "");
            assertThat(t.lastError()).isEmpty();
        }
        int after = ticks.get();
        assertThat(ticks.get()).as("no tick after close").isEqualTo(after);
    }
}
