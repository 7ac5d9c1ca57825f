package io.limedb.core.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HashRingTest {
    private static final int KEYS = 100_000;

    private static byte[] key(int i) {
        return ("key:" + i).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void threeShardsWithDefaultVnodesEachOwnAThirdOfTheKeysWithinFivePercent() {
        var ring = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), HashRing.DEFAULT_VNODES);
        var counts = new HashMap<String, Integer>();
        for (int i = 0; i < KEYS; i++) counts.merge(ring.ownerOf(key(i)), 1, Integer::sum);
        assertThat(counts).hasSize(3);
        counts.forEach((shard, n) ->
                assertThat(n / (double) KEYS).as("share of %s", shard).isCloseTo(1 / 3.0, within(0.05)));
    }

    @Test
    void sharesOfTheKeyspaceSumToOneAndMatchTheKeyCounts() {
        var ring = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), HashRing.DEFAULT_VNODES);
        Map<String, Double> shares = ring.shares();
        assertThat(shares.values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, within(1e-9));
        var counts = new HashMap<String, Integer>();
        for (int i = 0; i < KEYS; i++) counts.merge(ring.ownerOf(key(i)), 1, Integer::sum);
        shares.forEach((s, share) -> assertThat(counts.get(s) / (double) KEYS).isCloseTo(share, within(0.01)));
    }

    @Test
    void addingAFourthShardMovesAboutAQuarterOfTheKeysAndOnlyToTheNewShard() {
        var three = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), HashRing.DEFAULT_VNODES);
        var four = HashRing.of(List.of("shard-0", "shard-1", "shard-2", "shard-3"), HashRing.DEFAULT_VNODES);
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            String before = three.ownerOf(key(i));
            String after = four.ownerOf(key(i));
            if (!before.equals(after)) {
                moved++;
                assertThat(after).as("a moved key goes to the new shard").isEqualTo("shard-3");
            }
        }
        assertThat(moved / (double) KEYS).isCloseTo(0.25, within(0.05));
    }

    @Test
    void ringIsTheSameWhateverOrderItIsBuiltInAndEveryKeyIsInItsOwnersRanges() {
        var a = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), 64);
        var b = HashRing.of(List.of("shard-2", "shard-0", "shard-1"), 64);
        var ranges = a.ranges();
        for (int i = 0; i < 5_000; i++) {
            byte[] k = key(i);
            String owner = a.ownerOf(k);
            assertThat(b.ownerOf(k)).isEqualTo(owner);
            long pos = KeyHash.of(k);
            assertThat(ranges.get(owner)).anyMatch(r -> r.contains(pos));
            ranges.forEach((s, rs) -> {
                if (!s.equals(owner)) assertThat(rs).noneMatch(r -> r.contains(pos));
            });
        }
    }

    @Test
    void knownKeysKeepTheirOwnerAcrossRuns() {
        // Pinned: if this changes, data written by an older version would be looked up on the wrong shard.
        var ring = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), HashRing.DEFAULT_VNODES);
        var owners = new StringBuilder();
        for (int i = 0; i < 12; i++) owners.append(ring.ownerOf(key(i)).charAt(6));
        assertThat(owners.toString()).isEqualTo(PINNED_OWNERS);
    }

    // Owners (last digit of the shard id) of key:0..key:11; a change means the ring layout changed.
    static final String PINNED_OWNERS = "112002222002";

    @Test
    void singleShardOwnsEverything() {
        var ring = HashRing.of(List.of("only"), 8);
        assertThat(ring.shares()).containsEntry("only", 1.0);
        assertThat(ring.ownerOf(key(1))).isEqualTo("only");
    }

    @Test
    void rejectsBadInput() {
        assertThatThrownBy(() -> HashRing.of(List.of(), 8)).hasMessageContaining("at least one shard");
        assertThatThrownBy(() -> HashRing.of(List.of("a", "a"), 8)).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> HashRing.of(List.of("a"), 0)).hasMessageContaining("vnodes");
    }

    @Test
    void wrappingRangeContainsBothEnds() {
        var r = new RingRange(-10L, 10L); // unsigned: from near the top, wrapping past zero, to 10
        assertThat(r.contains(-5L)).isTrue();
        assertThat(r.contains(0L)).isTrue();
        assertThat(r.contains(10L)).isTrue();
        assertThat(r.contains(11L)).isFalse();
        assertThat(r.contains(-10L)).isFalse();
    }
}
