package io.limedb.node.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.limedb.api.v1.KeyValue;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.PutCondition;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.WriteOp;
import io.limedb.core.ring.HashRing;
import io.limedb.core.ring.RingRange;
import io.limedb.node.config.Limits;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.storage.RocksDbStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardEngineTest {
    @TempDir
    Path dir;
    private RocksDbStore store;
    private ShardEngine engine;
    private final AtomicLong now = new AtomicLong(1_000_000);

    @BeforeEach
    void open() {
        store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults());
        engine = new ShardEngine("shard-0", store, new Limits(16, 32, 10), now::get);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static PutRequest put(String k, String v, long expireAt, PutCondition c) {
        return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8(v))
                .setExpireAtMs(expireAt).setCondition(c).build();
    }

    private String get(String k) {
        var r = engine.get(b(k));
        return r.getFound() ? r.getValue().toStringUtf8() : null;
    }

    @Test
    void conditionalPutsFollowRedisNxAndXx() {
        assertThat(engine.put(put("k", "1", 0, PutCondition.IF_PRESENT)).getApplied()).isFalse();
        assertThat(get("k")).isNull();
        assertThat(engine.put(put("k", "1", 0, PutCondition.IF_ABSENT)).getApplied()).isTrue();
        assertThat(engine.put(put("k", "2", 0, PutCondition.IF_ABSENT)).getApplied()).isFalse();
        assertThat(get("k")).isEqualTo("1");
        assertThat(engine.put(put("k", "3", 0, PutCondition.IF_PRESENT)).getApplied()).isTrue();
        assertThat(get("k")).isEqualTo("3");
    }

    @Test
    void expiredKeysReadAsAbsentAndCountAsAbsentForNx() {
        engine.put(put("t", "v", now.get() + 100, PutCondition.ALWAYS));
        assertThat(get("t")).isEqualTo("v");
        now.addAndGet(100);
        assertThat(get("t")).isNull();
        assertThat(engine.delete(b("t")).getExisted()).isFalse();
        assertThat(engine.put(put("t", "w", 0, PutCondition.IF_ABSENT)).getApplied()).isTrue();
        assertThat(get("t")).isEqualTo("w");
    }

    @Test
    void incrementStartsAtZeroAndRejectsNonIntegersAndOverflowWithoutTouchingTheValue() {
        assertThat(engine.increment(b("n"), 5).getValue()).isEqualTo(5);
        assertThat(engine.increment(b("n"), -7).getValue()).isEqualTo(-2);
        engine.put(put("s", "abc", 0, PutCondition.ALWAYS));
        assertThatThrownBy(() -> engine.increment(b("s"), 1)).isInstanceOf(LimeException.class)
                .extracting(e -> ((LimeException) e).code()).isEqualTo(ErrorCode.NOT_AN_INTEGER);
        assertThat(get("s")).isEqualTo("abc");
        engine.put(put("m", Long.toString(Long.MAX_VALUE), 0, PutCondition.ALWAYS));
        assertThatThrownBy(() -> engine.increment(b("m"), 1)).hasMessageContaining("overflow");
        assertThat(get("m")).isEqualTo(Long.toString(Long.MAX_VALUE));
        for (String bad : List.of("", " 1", "01", "+1", "1.5", "-0")) {
            engine.put(put("x", bad, 0, PutCondition.ALWAYS));
            assertThatThrownBy(() -> engine.increment(b("x"), 1)).as("'%s'", bad).isInstanceOf(LimeException.class);
        }
    }

    @Test
    void concurrentIncrementsAreNotLost() throws Exception {
        var threads = new ArrayList<Thread>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> IntStream.range(0, 500).forEach(i -> engine.increment(b("c"), 1))));
        }
        for (Thread t : threads) t.join();
        assertThat(get("c")).isEqualTo("2000");
    }

    @Test
    void limitsGiveClearErrorsAndLeaveDataAlone() {
        engine.put(put("ok", "v", 0, PutCondition.ALWAYS));
        assertThatThrownBy(() -> engine.put(put("k".repeat(17), "v", 0, PutCondition.ALWAYS)))
                .hasMessage("key too large: 17 bytes, limit 16");
        assertThatThrownBy(() -> engine.put(put("ok", "v".repeat(33), 0, PutCondition.ALWAYS)))
                .hasMessage("value too large: 33 bytes, limit 32");
        assertThatThrownBy(() -> engine.get(new byte[0])).hasMessage("empty key");
        assertThatThrownBy(() -> engine.multiGet(IntStream.range(0, 11).mapToObj(i -> b("k" + i)).toList()))
                .hasMessageContaining("too many keys");
        assertThat(get("ok")).isEqualTo("v");
        var r = engine.execute(Op.newBuilder().setPut(put("k".repeat(17), "v", 0, PutCondition.ALWAYS)).build());
        assertThat(r.getError().getCode()).isEqualTo("KEY_TOO_LARGE");
    }

    @Test
    void writeBatchIsAppliedWhole() {
        engine.put(put("gone", "x", 0, PutCondition.ALWAYS));
        var resp = engine.writeBatch(List.of(
                WriteOp.newBuilder().setPut(put("a", "1", 0, PutCondition.ALWAYS)).build(),
                WriteOp.newBuilder().setPut(put("b", "2", 0, PutCondition.ALWAYS)).build(),
                WriteOp.newBuilder().setDelete(io.limedb.api.v1.DeleteRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("gone"))).build()));
        assertThat(resp.getApplied()).isEqualTo(2);
        assertThat(get("a")).isEqualTo("1");
        assertThat(get("gone")).isNull();
        // One bad op rejects the whole batch before anything is written.
        assertThatThrownBy(() -> engine.writeBatch(List.of(
                WriteOp.newBuilder().setPut(put("c", "3", 0, PutCondition.ALWAYS)).build(),
                WriteOp.newBuilder().setPut(put("d", "v".repeat(33), 0, PutCondition.ALWAYS)).build())))
                .hasMessageContaining("value too large");
        assertThat(get("c")).isNull();
    }

    @Test
    void scanOfAShardsRangesReturnsExactlyTheKeysTheRingGivesIt() {
        var ring = HashRing.of(List.of("shard-0", "shard-1"), 16);
        var mine = new ArrayList<String>();
        for (int i = 0; i < 500; i++) {
            String k = "k" + i;
            engine.put(put(k, "v" + i, 0, PutCondition.ALWAYS));
            if (ring.ownerOf(b(k)).equals("shard-1")) mine.add(k);
        }
        var seen = new ArrayList<String>();
        for (RingRange r : ring.ranges().get("shard-1")) {
            engine.scan(r, 0, false, 7, Long.MAX_VALUE, chunk -> chunk.stream().map(KeyValue::getKey)
                    .map(ByteString::toStringUtf8).forEach(seen::add));
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(mine);
    }

    @Test
    void scanChunksAreBoundedByBytesWithAtLeastOneEntryEach() {
        for (int i = 0; i < 20; i++) engine.put(put("s" + i, "v".repeat(30), 0, PutCondition.ALWAYS));
        var chunks = new ArrayList<List<KeyValue>>();
        engine.scan(new RingRange(0, 0), 0, false, 1000, 100, chunks::add);
        assertThat(chunks.stream().mapToInt(List::size).sum()).isEqualTo(20);
        // An entry is ~40 bytes: a chunk closes once it reaches 100 bytes, so at most 3 entries.
        assertThat(chunks).allSatisfy(c -> assertThat(c).hasSizeBetween(1, 3));
        var single = new ArrayList<List<KeyValue>>();
        engine.scan(new RingRange(0, 0), 0, false, 1000, 1, single::add);
        assertThat(single).hasSize(20).allSatisfy(c -> assertThat(c).hasSize(1));
    }

    @Test
    void executeAllKeepsOrderAcrossGroupedPutsAndReportsEachOpsOwnError() {
        Op put1 = Op.newBuilder().setPut(put("g", "1", 0, PutCondition.ALWAYS)).build();
        Op bad = Op.newBuilder().setPut(put("g", "v".repeat(33), 0, PutCondition.ALWAYS)).build();
        Op get = Op.newBuilder().setGet(io.limedb.api.v1.GetRequest.newBuilder().setKey(ByteString.copyFromUtf8("g"))).build();
        Op put2 = Op.newBuilder().setPut(put("g", "2", 0, PutCondition.ALWAYS)).build();
        Op incr = Op.newBuilder().setIncrement(io.limedb.api.v1.IncrementRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("g")).setDelta(5)).build();
        var results = engine.executeAll(List.of(put1, bad, get, put2, put2, incr, get));
        assertThat(results.get(0).getPut().getApplied()).isTrue();
        assertThat(results.get(1).getError().getCode()).isEqualTo("VALUE_TOO_LARGE");
        assertThat(results.get(2).getGet().getValue().toStringUtf8()).isEqualTo("1"); // sees the put before it
        assertThat(results.get(5).getIncrement().getValue()).isEqualTo(7);
        assertThat(results.get(6).getGet().getValue().toStringUtf8()).isEqualTo("7");
    }

    @Test
    void statsReportKeysAndRocksDbProperties() {
        for (int i = 0; i < 100; i++) engine.put(put("k" + i, "v", 0, PutCondition.ALWAYS));
        var s = engine.stats();
        assertThat(s.getNodeId()).isEqualTo("shard-0");
        assertThat(s.getEstimatedKeys()).isBetween(90L, 110L);
        assertThat(s.getRocksdbPropertiesMap()).containsKeys("rocksdb.estimate-num-keys", "ticker.bytes_written");
    }
}
