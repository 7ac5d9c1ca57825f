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

    private static Op getOp(String k) {
        return Op.newBuilder().setGet(io.limedb.api.v1.GetRequest.newBuilder().setKey(ByteString.copyFromUtf8(k))).build();
    }

    private static String value(int i, int size) {
        return String.valueOf((char) ('a' + i)).repeat(size);
    }

    @Test
    void aBatchOfGetsIsReadTogetherInOrderWithLargeValuesWritesAndBadKeysAmongThem() {
        var wide = new ShardEngine("shard-0", store, new Limits(16, 64 * 1024, 300), now::get);
        for (int i = 0; i < 150; i++) wide.put(put("g" + i, i == 90 ? value(9, 40_000) : "v" + i, 0, PutCondition.ALWAYS));
        wide.put(put("gone", "old", now.get() - 1, PutCondition.ALWAYS)); // expired
        var ops = new ArrayList<Op>();
        for (int i = 0; i < 150; i++) ops.add(getOp("g" + i));
        ops.add(40, getOp("this-key-is-too-long"));
        ops.add(41, getOp("absent"));
        ops.add(42, getOp("gone"));
        ops.add(100, Op.newBuilder().setPut(put("g120", "new", 0, PutCondition.ALWAYS)).build());

        var results = wide.executeAll(ops);

        assertThat(results).hasSize(154);
        assertThat(results.get(40).getError().getCode()).isEqualTo("KEY_TOO_LARGE");
        assertThat(results.get(41).getGet().getFound()).isFalse();
        assertThat(results.get(42).getGet().getFound()).as("expired").isFalse();
        assertThat(results.get(100).getPut().getApplied()).isTrue();
        for (int i = 0; i < 150; i++) {
            int at = i + (i >= 40 ? 3 : 0) + (i >= 97 ? 1 : 0);
            String want = i == 90 ? value(9, 40_000) : i == 120 ? "new" : "v" + i;
            assertThat(results.get(at).getGet().getValue().toStringUtf8()).as("g" + i).isEqualTo(want);
        }
    }

    @Test
    void aBatchOfGetsPastTheReplyBudgetAnswersPartAndRefusesTheRestToBeSentAgain() {
        int budget = 12_000, size = 3000;
        var small = new ShardEngine("shard-0", store, new Limits(16, 4096, 100, budget), now::get);
        for (int i = 0; i < 7; i++) small.put(put("v" + i, value(i, size), 0, PutCondition.ALWAYS));
        Op putW = Op.newBuilder().setPut(put("w", "x", 0, PutCondition.ALWAYS)).build();
        Op putV4 = Op.newBuilder().setPut(put("v4", "new", 0, PutCondition.ALWAYS)).build();
        Op incr = Op.newBuilder().setIncrement(io.limedb.api.v1.IncrementRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("c")).setDelta(1)).build();
        var ops = List.of(getOp("v0"), getOp("v1"), putW, getOp("v2"), getOp("v3"), getOp("v4"), putV4, getOp("v5"),
                incr, getOp("v6"));

        var results = small.executeAll(ops);

        // 10 answers counted as 256 bytes each, then values of ~3 KB: v0..v3 fill it, the rest wait.
        for (int i : List.of(0, 1, 3, 4)) {
            String key = ops.get(i).getGet().getKey().toStringUtf8();
            assertThat(results.get(i).getGet().getValue().toStringUtf8()).as(key).isEqualTo(value(key.charAt(1) - '0', size));
        }
        assertThat(results.get(2).getPut().getApplied()).as("writes still run").isTrue();
        assertThat(results.get(8).getIncrement().getValue()).isEqualTo(1);
        for (int i : List.of(5, 6, 7, 9)) {
            var e = results.get(i).getError();
            assertThat(e.getCode()).isEqualTo("REPLY_FULL");
            assertThat(e.getMessage()).isEqualTo("the reply to this batch reached its budget of 12000 bytes "
                    + "(limits.reply.bytes); not run, send it again");
            assertThat(results.get(i).getSerializedSize() + 6).isLessThanOrEqualTo(Limits.SMALL_ANSWER_BYTES);
        }
        assertThat(ErrorCode.REPLY_FULL.outcome()).isEqualTo(ErrorCode.Outcome.NOT_APPLIED);
        assertThat(ErrorCode.REPLY_FULL.retryable()).isTrue();
        assertThat(get("w")).isEqualTo("x");
        assertThat(get("v4")).as("the write after the GET of its key waits with it").isEqualTo(value(4, size));
        assertThat(io.limedb.api.v1.ExecuteResponse.newBuilder().addAllResults(results).build().getSerializedSize())
                .isLessThanOrEqualTo(budget + size + 16);

        // Sent again, in order, as the coordinator does: every answer comes back intact, in key order.
        var pending = new ArrayList<Integer>(List.of(5, 6, 7, 9));
        var answers = new ArrayList<>(results);
        int rounds = 0;
        while (!pending.isEmpty()) {
            rounds++;
            var again = small.executeAll(pending.stream().map(ops::get).toList());
            var left = new ArrayList<Integer>();
            for (int j = 0; j < again.size(); j++) {
                if (again.get(j).hasError()) left.add(pending.get(j));
                else answers.set(pending.get(j), again.get(j));
            }
            pending = left;
        }
        assertThat(rounds).isEqualTo(1); // 4 x 256 bytes and 3 values fit
        assertThat(answers.get(5).getGet().getValue().toStringUtf8()).as("v4 read before its write").isEqualTo(value(4, size));
        assertThat(answers.get(6).getPut().getApplied()).isTrue();
        assertThat(answers.get(7).getGet().getValue().toStringUtf8()).isEqualTo(value(5, size));
        assertThat(answers.get(9).getGet().getValue().toStringUtf8()).isEqualTo(value(6, size));
        assertThat(get("v4")).isEqualTo("new");
    }

    @Test
    void aSingleValueAlwaysFitsAndTooManyOperationsForTheBudgetAreRefusedUpFront() {
        var tiny = new ShardEngine("shard-0", store, new Limits(16, 4096, 100, 2600), now::get);
        tiny.put(put("big", value(0, 4000), 0, PutCondition.ALWAYS));
        var one = tiny.executeAll(List.of(getOp("big"), getOp("big")));
        assertThat(one.get(0).getGet().getValue().size()).isEqualTo(4000);
        assertThat(one.get(1).getError().getCode()).isEqualTo("REPLY_FULL");
        // Eleven answers of 256 bytes, counted before any value, pass the 2600 bytes; ten would not.
        assertThatThrownBy(() -> tiny.executeAll(IntStream.range(0, 11).mapToObj(i -> getOp("k" + i)).toList()))
                .isInstanceOf(LimeException.class).hasMessage("too many operations in one batch: 11, their answers alone "
                        + "could pass the reply budget of 2600 bytes (limits.reply.bytes); send at most 10 per batch")
                .extracting(e -> ((LimeException) e).code()).isEqualTo(ErrorCode.TOO_LARGE);
    }

    @Test
    void multiGetPastTheReplyBudgetFailsWithTooLargeNamingTheLimit() {
        var small = new ShardEngine("shard-0", store, new Limits(16, 4096, 100, 10_000), now::get);
        for (int i = 0; i < 5; i++) small.put(put("m" + i, value(i, 3000), 0, PutCondition.ALWAYS));
        var three = small.multiGet(List.of(b("m0"), b("m1"), b("absent"), b("m2")));
        assertThat(three).extracting(r -> r.getValue().size()).containsExactly(3000, 3000, 0, 3000);
        assertThatThrownBy(() -> small.multiGet(IntStream.range(0, 5).mapToObj(i -> b("m" + i)).toList()))
                .isInstanceOf(LimeException.class)
                .hasMessageStartingWith("reply too large: the values of the first 4 of 5 keys take ")
                .hasMessageEndingWith("bytes, limit 10000 (limits.reply.bytes); ask for fewer keys per call")
                .extracting(e -> ((LimeException) e).code()).isEqualTo(ErrorCode.TOO_LARGE);
        var single = new ShardEngine("shard-0", store, new Limits(16, 4096, 100, 1000), now::get);
        assertThat(single.multiGet(List.of(b("m0"))).get(0).getValue().size()).as("one value always fits").isEqualTo(3000);
    }

    @Test
    void theDefaultReplyBudgetLeavesRoomForOneLargestValueInTheLargestMessage() {
        var d = Limits.defaults();
        assertThat(d.replyBudgetBytes()).isEqualTo((48L << 20) - (129 << 10));
        assertThat(d.replyBudgetBytes() + d.maxOpBytes() + (64 << 10)).isEqualTo(d.maxMessageBytes());
        assertThat(new Limits(64 << 10, 16 << 20, 100_000, 10 << 20).replyBudgetBytes()).isEqualTo(10 << 20);
        assertThat(new Limits(64 << 10, 16 << 20, 100_000, 1L << 40).replyBudgetBytes()).isEqualTo(d.replyBudgetBytes());
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
