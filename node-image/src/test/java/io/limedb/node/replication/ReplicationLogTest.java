package io.limedb.node.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.RocksDbStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationLogTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void appendsSurviveReopenWithTheirEpochHistoryAndPersistedEpoch() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store);
            assertThat(log.raiseEpoch(1)).isTrue();
            assertThat(log.raiseEpoch(1)).isFalse();
            log.append(1, List.of(Mutation.put(b("a"), b("1"))));
            log.append(1, List.of(Mutation.put(b("b"), b("2"))));
            log.raiseEpoch(3);
            log.append(3, List.of(Mutation.put(b("a"), b("3")), Mutation.delete(b("b"))));
        }
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store);
            assertThat(log.lastSeq()).isEqualTo(3);
            assertThat(log.lastEpoch()).isEqualTo(3);
            assertThat(log.epoch()).isEqualTo(3);
            assertThat(log.history()).extracting(h -> h.getEpoch() + "@" + h.getStartSeq()).containsExactly("1@1", "3@3");
            assertThat(log.read(2, 10, 1 << 20)).extracting(r -> r.getSeq()).containsExactly(2L, 3L);
            assertThat(store.get(b("a"))).isEqualTo(b("3")); // data and log written together
            assertThat(store.get(b("b"))).isNull();
        }
    }

    @Test
    void divergencePointFollowsEpochHistories() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var primary = new ReplicationLog(store);
            for (int i = 0; i < 100; i++) primary.append(1, List.of(Mutation.put(b("k" + i), b("v"))));
            for (int i = 0; i < 10; i++) primary.append(3, List.of(Mutation.put(b("x" + i), b("v")))); // 101..110
            var h1 = io.limedb.api.v1.EpochStart.newBuilder().setEpoch(1).setStartSeq(1).build();
            var h2 = io.limedb.api.v1.EpochStart.newBuilder().setEpoch(2).setStartSeq(91).build();
            // Same epoch, behind: agrees entirely.
            assertThat(primary.divergencePoint(50, 1, List.of(h1))).isEqualTo(50);
            // Ahead within epoch 1 (records the primary never had): cut at the end of epoch 1 here.
            assertThat(primary.divergencePoint(105, 1, List.of(h1))).isEqualTo(100);
            // Wrote seq 91..100 in epoch 2, which this primary never saw: agree up to 90.
            assertThat(primary.divergencePoint(100, 2, List.of(h1, h2))).isEqualTo(90);
            // Same epoch as the primary's newest: agree up to what both have.
            assertThat(primary.divergencePoint(104, 3, List.of(h1))).isEqualTo(104);
            assertThat(primary.divergencePoint(0, 0, List.of())).isZero();
        }
    }

    @Test
    void truncationDropsRecordsAndRepairsTheirKeysAtomically() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store);
            log.append(1, List.of(Mutation.put(b("a"), b("1"))));
            log.append(2, List.of(Mutation.put(b("a"), b("diverged")), Mutation.put(b("c"), b("new"))));
            log.append(2, List.of(Mutation.delete(b("a"))));
            var t = log.divergentAfter(1);
            assertThat(t.records()).isEqualTo(2);
            assertThat(t.keys()).hasSize(2);
            log.truncateAfter(1, List.of(Mutation.put(b("a"), b("1")), Mutation.delete(b("c"))));
            assertThat(log.lastSeq()).isEqualTo(1);
            assertThat(log.lastEpoch()).isEqualTo(1);
            assertThat(log.history()).hasSize(1);
            assertThat(log.read(2, 10, 1 << 20)).isEmpty();
            assertThat(store.get(b("a"))).isEqualTo(b("1"));
            assertThat(store.get(b("c"))).isNull();
            assertThat(log.append(3, List.of(Mutation.put(b("d"), b("4"))))).isEqualTo(2);
        }
    }

    @Test
    void trimKeepsTheNewestRecordsAndSnapshotResetRestartsTheLog() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store);
            for (int i = 0; i < 50; i++) log.append(1, List.of(Mutation.put(b("k" + i), b("v"))));
            log.trim(10);
            assertThat(log.firstSeq()).isEqualTo(41);
            assertThat(log.read(1, 100, 1 << 20)).extracting(r -> r.getSeq()).first().isEqualTo(41L);
            log.forgetPosition();
            assertThat(log.lastSeq()).isZero();
            log.resetTo(500, 4, List.of(io.limedb.api.v1.EpochStart.newBuilder().setEpoch(4).setStartSeq(480).build()));
            assertThat(log.lastSeq()).isEqualTo(500);
            assertThat(log.firstSeq()).isEqualTo(501);
            assertThat(log.append(4, List.of(Mutation.put(b("z"), b("v"))))).isEqualTo(501);
        }
    }

    @Test
    void theInMemoryCacheIsBoundedByBytesAndOlderRecordsAreReadFromRocksDb() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store, 1000, 3 << 20); // 3 MiB
            log.raiseEpoch(1);
            byte[] big = new byte[1 << 20];
            for (int i = 0; i < 10; i++) {
                big[0] = (byte) i;
                log.append(1, List.of(Mutation.put(b("big" + i), big.clone())));
                assertThat(log.cached()[1]).isLessThanOrEqualTo(3 << 20);
            }
            assertThat(log.cached()[0]).isEqualTo(2); // two records of just over 1 MiB fit in 3 MiB, not three
            // Every record is still readable: the newest from memory, the older ones from RocksDB.
            for (int from = 1; from <= 10; from++) {
                var r = log.read(from, 1, 64 << 20);
                assertThat(r).singleElement().satisfies(rec -> assertThat(rec.getSeq()).isEqualTo((long) rec.getMutations(0)
                        .getValue().byteAt(0) + 1));
            }
            assertThat(log.read(1, 100, 1)).hasSize(1); // at least one record, even past maxBytes
            // A record larger than the whole cache is not kept, and still read.
            log.append(1, List.of(Mutation.put(b("huge"), new byte[4 << 20])));
            assertThat(log.cached()).containsExactly(0, 0);
            assertThat(log.read(11, 10, 1 << 20)).extracting(r -> r.getSeq()).containsExactly(11L);
            log.trim(1);
            assertThat(log.cached()).containsExactly(0, 0);
        }
    }

    @Test
    void theCacheIsBoundedByCountAsWell() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store, 5, 1 << 20);
            for (int i = 0; i < 12; i++) log.append(1, List.of(Mutation.put(b("k" + i), b("v"))));
            assertThat(log.cached()[0]).isEqualTo(5);
            assertThat(log.read(1, 100, 1 << 20)).hasSize(12);
            log.truncateAfter(10, List.of());
            assertThat(log.cached()[0]).isEqualTo(3); // records 8..10
            assertThat(log.read(8, 100, 1 << 20)).extracting(r -> r.getSeq()).containsExactly(8L, 9L, 10L);
        }
    }

    @Test
    void aReplicaReadsFromAnyPositionOfTheCachedTailAsItWrapsGrowsAndIsCutAtBothEnds() {
        try (var store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults())) {
            var log = new ReplicationLog(store, 100, 1 << 20);
            for (int i = 1; i <= 1000; i++) log.append(1, List.of(Mutation.put(b("k" + i), b("v" + i))));
            assertThat(log.cached()[0]).isEqualTo(100); // seqs 901..1000, in a ring that wrapped many times
            for (long from = 850; from <= 1001; from++) {
                var got = log.read(from, 7, 1 << 20);
                long expected = Math.max(0, Math.min(7, 1000 - from + 1));
                assertThat(got).hasSize((int) expected);
                for (int i = 0; i < got.size(); i++) {
                    assertThat(got.get(i).getSeq()).isEqualTo(from + i);
                    assertThat(got.get(i).getMutations(0).getKey().toStringUtf8()).isEqualTo("k" + (from + i));
                }
            }
            log.truncateAfter(950, List.of());
            assertThat(log.read(940, 100, 1 << 20)).extracting(r -> r.getSeq())
                    .containsExactly(940L, 941L, 942L, 943L, 944L, 945L, 946L, 947L, 948L, 949L, 950L);
            for (int i = 951; i <= 1100; i++) log.append(1, List.of(Mutation.put(b("n" + i), b("v"))));
            log.trim(30); // keeps 1071..1100
            assertThat(log.read(1060, 5, 1 << 20)).extracting(r -> r.getSeq()).containsExactly(1071L, 1072L, 1073L, 1074L, 1075L);
            assertThat(log.read(1099, 5, 1 << 20)).extracting(r -> r.getMutations(0).getKey().toStringUtf8())
                    .containsExactly("n1099", "n1100");
        }
    }
}
