package io.limedb.testkit.check;

import static io.limedb.testkit.check.Histories.history;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.testkit.check.LinearizabilityReport.Verdict;
import io.limedb.testkit.history.History;
import io.limedb.testkit.history.Operation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private LinearizabilityReport linearizable(History h) {
        var report = checker.check(h);
        assertThat(report.verdict()).as(report.summary()).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(report.ok()).isTrue();
        assertThat(report.violation()).isNull();
        return report;
    }

    private LinearizabilityReport notLinearizable(History h) {
        var report = checker.check(h);
        assertThat(report.verdict()).as(report.summary()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(report.ok()).isFalse();
        assertThat(report.violation()).isNotNull();
        return report;
    }

    private static List<Long> ids(LinearizabilityReport report) {
        return report.violation().window().stream().map(Operation::id).toList();
    }

    @Nested
    class Sequential {
        @Test
        void emptyHistoryIsLinearizable() {
            var report = linearizable(new History(List.of()));
            assertThat(report.keysChecked()).isZero();
        }

        @Test
        void writesAndReadsInOrder() {
            linearizable(history()
                    .read(1, "k", null, 0, 1)
                    .write(1, "k", "a", 2, 3)
                    .read(2, "k", "a", 4, 5)
                    .write(2, "k", "b", 6, 7)
                    .read(1, "k", "b", 8, 9)
                    .delete(1, "k", 10, 11)
                    .read(2, "k", null, 12, 13)
                    .build());
        }

        @Test
        void staleReadAfterCompletedWriteFails() {
            var report = notLinearizable(history()
                    .write(1, "k", "a", 0, 10)   // #0
                    .write(1, "k", "b", 20, 30)  // #1
                    .read(2, "k", "a", 40, 50)   // #2 stale
                    .build());
            assertThat(report.failingKeys()).containsExactly("k");
            assertThat(report.violation().key()).isEqualTo("k");
            assertThat(ids(report)).containsExactly(0L, 1L, 2L);
            assertThat(report.violation().explanation())
                    .contains("key k: not linearizable", "#2 client 2 read(k) -> \"a\"", "#1 client 1 write(k, \"b\")");
        }

        @Test
        void readingAbsentAfterCompletedWriteFails() {
            notLinearizable(history().write(1, "k", "a", 0, 10).read(2, "k", null, 20, 30).build());
        }

        @Test
        void readingDeletedValueAfterDeleteFails() {
            notLinearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .delete(1, "k", 20, 30)
                    .read(2, "k", "a", 40, 50)
                    .build());
        }

        @Test
        void readOfNeverWrittenValueFails() {
            var report = notLinearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .read(2, "k", "zzz", 20, 30)
                    .build());
            assertThat(ids(report)).containsExactly(1L);
            assertThat(report.violation().explanation()).contains("#1", "no write which may have taken effect");
        }

        @Test
        void readBeforeTheWriteWasInvokedFails() {
            notLinearizable(history().read(2, "k", "a", 0, 10).write(1, "k", "a", 20, 30).build());
        }

        @Test
        void initialValuesAreHonoured() {
            var h = history().read(1, "k", "init", 0, 1).read(1, "other", null, 2, 3).build();
            assertThat(checker.check(h).ok()).isFalse();
            assertThat(checker.check(h, Map.of("k", "init")).ok()).isTrue();
        }
    }

    @Nested
    class Concurrent {
        @Test
        void readConcurrentWithWriteMaySeeEitherValue() {
            var base = history().write(1, "k", "a", 0, 10);
            linearizable(history().write(1, "k", "a", 0, 10).write(1, "k", "b", 20, 40).read(2, "k", "a", 25, 30).build());
            linearizable(base.write(1, "k", "b", 20, 40).read(2, "k", "b", 25, 30).build());
        }

        @Test
        void overlappingWritesThenReadsOfEitherOrder() {
            linearizable(history().write(1, "k", "a", 0, 10).write(2, "k", "b", 0, 10).read(3, "k", "a", 20, 30).build());
            linearizable(history().write(1, "k", "a", 0, 10).write(2, "k", "b", 0, 10).read(3, "k", "b", 20, 30).build());
        }

        @Test
        void valueCannotFlipBackAfterBothWritesCompleted() {
            var report = notLinearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .write(2, "k", "b", 0, 10)
                    .read(3, "k", "a", 20, 30)
                    .read(3, "k", "b", 40, 50)
                    .build());
            assertThat(ids(report)).contains(3L);
        }

        @Test
        void concurrentReadersMustAgreeOnOrder() {
            // Two readers see the writes in opposite orders, with their reads overlapping in time.
            notLinearizable(history()
                    .write(1, "k", "a", 0, 100)
                    .write(2, "k", "b", 0, 100)
                    .read(3, "k", "a", 10, 20).read(3, "k", "b", 30, 40)
                    .read(4, "k", "b", 10, 20).read(4, "k", "a", 30, 40)
                    .build());
        }

        @Test
        void equalTimestampsCountAsConcurrent() {
            linearizable(history().write(1, "k", "a", 0, 10).write(1, "k", "b", 20, 30).read(2, "k", "a", 30, 40).build());
        }
    }

    @Nested
    class Outcomes {
        @Test
        void unknownWriteObservedIsLinearizable() {
            linearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .unknownWrite(2, "k", "b", 20)
                    .read(3, "k", "b", 1000, 1010)
                    .read(3, "k", "b", 1020, 1030)
                    .build());
        }

        @Test
        void unknownWriteNotObservedIsLinearizable() {
            var report = linearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .unknownWrite(2, "k", "b", 20)
                    .read(3, "k", "a", 1000, 1010)
                    .build());
            assertThat(report.operationsChecked()).isEqualTo(2);
        }

        @Test
        void unknownWriteCannotBeUndoneAfterItWasSeen() {
            notLinearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .unknownWrite(2, "k", "b", 20)
                    .read(3, "k", "b", 30, 40)
                    .read(3, "k", "a", 50, 60)
                    .build());
        }

        @Test
        void unknownWriteCannotTakeEffectBeforeItsInvocation() {
            notLinearizable(history().read(1, "k", "b", 0, 10).unknownWrite(2, "k", "b", 20).build());
        }

        @Test
        void unknownReadsAreIgnored() {
            linearizable(history().write(1, "k", "a", 0, 10).unknownRead(2, "k", 20).build());
        }

        @Test
        void failedWriteObservedByLaterReadFails() {
            var report = notLinearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .failedWrite(2, "k", "b", 20, 30)
                    .read(3, "k", "b", 40, 50)
                    .build());
            assertThat(ids(report)).containsExactly(1L, 2L);
            assertThat(report.violation().explanation()).contains("failed");
        }

        @Test
        void failedWriteNotObservedIsLinearizable() {
            linearizable(history().write(1, "k", "a", 0, 10).failedWrite(2, "k", "b", 20, 30).read(3, "k", "a", 40, 50).build());
        }
    }

    @Nested
    class Reporting {
        @Test
        void onlyTheBadKeyFailsAmongMany() {
            var h = history();
            for (int i = 0; i < 100; i++) {
                h.write(i % 7, "key" + i, "v" + i, i * 10L, i * 10L + 5).read(i % 7, "key" + i, "v" + i, i * 10L + 6, i * 10L + 9);
            }
            h.write(1, "key42", "late", 2000, 2010).read(2, "key42", "v42", 2020, 2030);
            var report = notLinearizable(h.build());
            assertThat(report.keysChecked()).isEqualTo(100);
            assertThat(report.operationsChecked()).isEqualTo(202);
            assertThat(report.failingKeys()).containsExactly("key42");
            assertThat(report.undecidedKeys()).isEmpty();
            assertThat(report.summary()).startsWith("NOT_LINEARIZABLE: keys=100 operations=202 failingKeys=1 undecidedKeys=0")
                    .contains("key key42");
        }

        @Test
        void windowIsTheShortestFailingPrefixNotTheWholeHistory() {
            var h = history();
            for (int i = 0; i < 200; i++) {
                h.write(i % 3, "k", "v" + i, i * 100L, i * 100L + 50);      // ids 2i
                h.read((i + 1) % 3, "k", "v" + i, i * 100L + 60, i * 100L + 90); // ids 2i+1
            }
            h.read(1, "k", "v10", 30_000, 30_010); // id 400: stale, v199 completed long before
            h.write(2, "k", "after", 40_000, 40_010).read(2, "k", "after", 40_020, 40_030);
            var report = notLinearizable(h.build());
            // the stale read, the last write completed before it, and the write of the value it saw
            assertThat(ids(report)).containsExactly(20L, 398L, 400L);
            assertThat(report.violation().explanation()).contains("up to just before #400");
        }

        @Test
        void violationFoundBeforeLaterOperationsIsReported() {
            var report = notLinearizable(history()
                    .write(1, "k", "a", 0, 10)
                    .write(2, "k", "b", 0, 10)
                    .read(3, "k", "a", 20, 30)   // #2
                    .read(4, "k", "b", 40, 50)   // #3: first moment of violation
                    .read(3, "k", "a", 60, 70)
                    .build());
            assertThat(report.violation().explanation()).contains("up to just before #3 ");
        }
    }

    @Nested
    class Budget {
        /** 18 concurrent writes, then reads that pin an impossible order: exponential without luck. */
        private History hard() {
            var h = history();
            int writers = 18;
            for (int i = 0; i < writers; i++) h.write(i, "k", "v" + i, 0, 100);
            h.read(99, "k", "v0", 200, 210).read(99, "k", "v1", 220, 230);
            return h.build();
        }

        @Test
        void smallConfigurationBudgetGivesUnknownNotAHang() {
            var report = new LinearizabilityChecker(1_000, Duration.ofSeconds(10)).check(hard());
            assertThat(report.verdict()).isEqualTo(Verdict.UNKNOWN);
            assertThat(report.ok()).isFalse();
            assertThat(report.undecidedKeys()).containsExactly("k");
            assertThat(report.summary()).contains("gave up on [k]");
        }

        @Test
        void timeBudgetGivesUnknownQuickly() {
            long start = System.nanoTime();
            var report = new LinearizabilityChecker(Long.MAX_VALUE, Duration.ofMillis(100)).check(hard());
            assertThat(report.verdict()).isEqualTo(Verdict.UNKNOWN);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }

        @Test
        void undecidedKeyDoesNotHideAFailingOne() {
            var h = history().write(1, "bad", "a", 0, 10).read(2, "bad", null, 20, 30);
            for (int i = 0; i < 18; i++) h.write(i, "k", "v" + i, 0, 100);
            h.read(99, "k", "v0", 200, 210).read(99, "k", "v1", 220, 230);
            var report = new LinearizabilityChecker(1_000, Duration.ofSeconds(10)).check(h.build());
            assertThat(report.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(report.failingKeys()).containsExactly("bad");
            assertThat(report.undecidedKeys()).containsExactly("k");
        }

        @Test
        void rejectsNonsenseBudgets() {
            assertThatThrownBy(() -> new LinearizabilityChecker(0, Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConfigurationsPerKey");
            assertThatThrownBy(() -> new LinearizabilityChecker(10, Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeoutPerKey");
        }
    }
}
