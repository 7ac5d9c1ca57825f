package io.limedb.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.ExecuteRequest;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.MultiGetRequest;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.node.dev.LocalCluster;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Memory is bounded by bytes and the limits answer clearly: values at the 16 MiB limit replicate and
 * travel in a snapshot to a replica that lost its data; a flood past the coordinator's queue limit
 * is refused with TRYAGAIN (nothing written) while the coordinator keeps serving; a RESP command past
 * its byte limit is refused as its headers arrive.
 */
class MemoryLimitsIT {
    private static final int MiB = 1 << 20;
    private static final int LARGE = 16 * MiB; // the default value limit

    @TempDir
    Path dir;

    /** A value of the largest size, different for each i. */
    private static byte[] large(int i) {
        byte[] v = new byte[LARGE];
        for (int j = 0; j < v.length; j += 4096) v[j] = (byte) (i * 31 + j / 4096);
        v[v.length - 1] = (byte) i;
        return v;
    }

    private static byte[] key(String k) {
        return k.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void largestValuesReplicateAndAReplicaThatLostItsDataCopiesThemInASnapshot() throws Exception {
        // A log that keeps 2 records: a replica that lost its data must copy a snapshot. Deadlines fit
        // 16 MiB writes replicated twice on a busy 2-core machine.
        var spec = TestCluster.spec(dir, 1, 3, "sync", 2, List.of("--replication.log.retain=2",
                "--rpc.deadline.ms=30000", "--replication.ack.timeout.ms=20000"));
        try (LocalCluster cluster = new LocalCluster(spec, TestCluster.jar())) {
            long t0 = System.nanoTime();
            cluster.start(Duration.ofSeconds(60));
            long started = System.nanoTime();
            var primary = cluster.controller().primary(0);
            var replicas = cluster.members(0).stream().filter(m -> m != primary).toList();
            try (var j = new Jedis("127.0.0.1", spec.coordinatorResp(), 60_000)) {
                for (int i = 0; i < 3; i++) assertThat(j.set(key("big:" + i), large(i))).isEqualTo("OK");
                for (int i = 0; i < 3; i++) assertThat(Arrays.equals(j.get(key("big:" + i)), large(i))).as("big:" + i).isTrue();
            }
            for (var r : replicas) awaitHolds(r, 3);
            long replicated = System.nanoTime();

            var wiped = replicas.get(0);
            cluster.kill(wiped);
            deleteTree(spec.dataDir().resolve(wiped.name()));
            try (var j = new Jedis("127.0.0.1", spec.coordinatorResp(), 60_000)) {
                assertThat(j.set(key("big:3"), large(3))).isEqualTo("OK");
            }
            Thread.sleep(300); // the log trims every 100 ms
            long restart = System.nanoTime();
            cluster.restart(wiped, Duration.ofSeconds(60));
            awaitHolds(wiped, 4);
            long copied = System.nanoTime();
            System.out.printf("MEMORY-LIMITS large values: cluster up in %d ms, 3 x 16 MiB written, read and on both "
                    + "replicas in %d ms, emptied replica restarted and holds all 4 in %d ms%n", (started - t0) / 1_000_000,
                    (replicated - started) / 1_000_000, (copied - restart) / 1_000_000);
            assertThat(Files.readString(wiped.log())).contains("copying a snapshot", "snapshot of 4 keys");
            assertThat(primary.alive()).isTrue();
            for (var r : replicas) assertThat(r.alive()).as(r.name()).isTrue();
        }
    }

    /** Waits until the member itself (read as a replica) holds big:0 .. big:(n-1) with their values. */
    private static void awaitHolds(LocalCluster.NodeProcess member, int n) {
        var ch = NettyChannelBuilder.forTarget(member.grpcAddress()).usePlaintext().maxInboundMessageSize(64 * MiB).build();
        try {
            var shard = ShardGrpc.newBlockingStub(ch);
            Awaitility.await(member.name() + " holds " + n + " large values").atMost(60, TimeUnit.SECONDS)
                    .pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(() -> {
                        for (int i = 0; i < n; i++) {
                            var r = shard.withDeadlineAfter(10, TimeUnit.SECONDS).execute(ExecuteRequest.newBuilder()
                                    .setReplicaRead(true).addOps(Op.newBuilder().setGet(GetRequest.newBuilder()
                                            .setKey(ByteString.copyFrom(key("big:" + i))))).build());
                            var got = r.getResults(0).getGet();
                            if (!got.getFound() || !Arrays.equals(got.getValue().toByteArray(), large(i))) return false;
                        }
                        return true;
                    });
        } finally {
            ch.shutdownNow();
        }
    }

    private static void deleteTree(Path root) throws Exception {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test
    void aFloodPastTheQueueLimitIsRefusedWithTryAgainAndTheCoordinatorKeepsServing() throws Exception {
        int value = 8000, queueLimit = 16 * 1024;
        var spec = TestCluster.spec(dir, 1, List.of("--limits.value.bytes=8192", "--limits.key.bytes=1024",
                "--limits.resp.command.bytes=10240", "--rpc.max.queued.bytes=" + queueLimit));
        try (LocalCluster cluster = new LocalCluster(spec, TestCluster.jar())) {
            cluster.start(Duration.ofSeconds(60));
            int clients = 3, perClient = 300;
            var pool = Executors.newFixedThreadPool(clients);
            var results = new ArrayList<java.util.concurrent.Future<List<Object>>>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                results.add(pool.submit((Callable<List<Object>>) () -> {
                    try (var j = new Jedis("127.0.0.1", spec.coordinatorResp(), 30_000)) {
                        var p = j.pipelined();
                        var replies = new ArrayList<Response<String>>();
                        for (int i = 0; i < perClient; i++) {
                            replies.add(p.set(key("flood:" + client + ":" + i), filler(client, i, value)));
                        }
                        p.sync();
                        var out = new ArrayList<Object>();
                        for (var r : replies) {
                            try {
                                out.add(r.get());
                            } catch (JedisDataException e) {
                                out.add(e);
                            }
                        }
                        assertThat(j.ping()).isEqualTo("PONG"); // the connection is still usable
                        return out;
                    }
                }));
            }
            int ok = 0, busy = 0;
            try (var j = new Jedis("127.0.0.1", spec.coordinatorResp(), 30_000)) {
                for (int c = 0; c < clients; c++) {
                    var out = results.get(c).get(60, TimeUnit.SECONDS);
                    for (int i = 0; i < perClient; i++) {
                        byte[] stored = j.get(key("flood:" + c + ":" + i));
                        if ("OK".equals(out.get(i))) {
                            ok++;
                            assertThat(stored).isEqualTo(filler(c, i, value));
                        } else {
                            busy++;
                            assertThat(((Exception) out.get(i)).getMessage()).startsWith("TRYAGAIN shard shard-0")
                                    .contains("limit " + queueLimit + " (rpc.max.queued.bytes)", "not sent");
                            assertThat(stored).as("a refused SET wrote nothing").isNull();
                        }
                    }
                }
                assertThat(busy).as("refused with TRYAGAIN").isPositive();
                assertThat(ok).as("accepted").isPositive();
                // Still serving, on a new connection as on the old ones.
                assertThat(j.set("after", "flood")).isEqualTo("OK");
                assertThat(j.get("after")).isEqualTo("flood");
            } finally {
                pool.shutdownNow();
            }
            System.out.printf("MEMORY-LIMITS flood: %d accepted, %d refused with TRYAGAIN%n", ok, busy);

            // A command whose declared lengths pass limits.resp.command.bytes is refused once its
            // headers say so, before the rest of its payload is sent; the connection is closed.
            try (var s = new Socket("127.0.0.1", spec.coordinatorResp())) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write(("*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$8000\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[8000]);
                out.write(("\r\n$1\r\nb\r\n$8000\r\n").getBytes(StandardCharsets.US_ASCII)); // 16,046 bytes declared
                out.flush();
                String reply = readAll(s.getInputStream());
                assertThat(reply).isEqualTo("-ERR Protocol error: command too large: 16046 bytes or more, limit 10240 bytes\r\n");
            }
            try (var j = new Jedis("127.0.0.1", spec.coordinatorResp())) {
                assertThat(j.get("a")).isNull(); // nothing of the refused MSET was written
                assertThat(j.get("after")).isEqualTo("flood");
            }
        }
    }

    @Test
    void aConnectionStopsBeingReadWhileTooManyBytesAwaitAnswers() throws Exception {
        int pendingLimit = 4 * MiB, commands = 100;
        var spec = TestCluster.spec(dir, 1, List.of("--limits.resp.pending.bytes=" + pendingLimit, "--rpc.deadline.ms=60000"));
        try (LocalCluster cluster = new LocalCluster(spec, TestCluster.jar())) {
            cluster.start(Duration.ofSeconds(60));
            var shard = cluster.shard(0);
            byte[] value = new byte[MiB];
            Arrays.fill(value, (byte) 'p');
            try (var s = new Socket("127.0.0.1", spec.coordinatorResp())) {
                s.setSoTimeout(60_000);
                cluster.pause(shard); // nothing gets answered: every command stays pending
                long[] written = {0};
                var writer = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        for (int i = 0; i < commands; i++) {
                            out.write(("*3\r\n$3\r\nSET\r\n$6\r\np:" + (1000 + i) + "\r\n$" + MiB + "\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                            for (int off = 0; off < MiB; off += 64 * 1024) {
                                out.write(value, off, 64 * 1024);
                                synchronized (written) {
                                    written[0] += 64 * 1024;
                                }
                            }
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                        out.flush();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                Thread.sleep(3000);
                long stalledAt;
                synchronized (written) {
                    stalledAt = written[0];
                }
                // The coordinator holds about pendingLimit; the rest waits in socket buffers or the client.
                assertThat(stalledAt).as("bytes the client could write").isLessThan(40L * MiB);
                assertThat(writer.isAlive()).isTrue();
                try (var j = new Jedis("127.0.0.1", spec.coordinatorResp())) {
                    assertThat(j.ping()).isEqualTo("PONG"); // other connections are served meanwhile
                }
                cluster.resume(shard);
                writer.join(60_000);
                assertThat(writer.isAlive()).isFalse();
                byte[] replies = s.getInputStream().readNBytes(commands * 5);
                assertThat(new String(replies, StandardCharsets.US_ASCII)).isEqualTo("+OK\r\n".repeat(commands));
                System.out.printf("MEMORY-LIMITS pending: the client could write %d MiB of %d MiB while nothing was answered%n",
                        stalledAt / MiB, commands);
            }
            try (var j = new Jedis("127.0.0.1", spec.coordinatorResp())) {
                assertThat(j.get(key("p:" + (1000 + commands - 1)))).isEqualTo(value);
            }
        }
    }

    @Test
    void readsWhoseRepliesPassTheShardsReplyBudgetComeBackWholeAndInOrder() throws Exception {
        int size = 4 * MiB, n = 10, budget = 10 * MiB; // 3 values fill a reply: 4 batches for 10 GETs
        var spec = TestCluster.spec(dir, 1, List.of("--limits.reply.bytes=" + budget));
        try (LocalCluster cluster = new LocalCluster(spec, TestCluster.jar())) {
            cluster.start(Duration.ofSeconds(60));
            var keys = new byte[n + 1][];
            try (var j = new Jedis("127.0.0.1", spec.coordinatorResp(), 60_000)) {
                var p = j.pipelined();
                for (int i = 0; i < n; i++) p.set(key("r:" + i), sized(i, size));
                p.sync();
                for (int i = 0; i < n; i++) keys[i] = key("r:" + i);
                keys[n] = key("r:absent");

                long t0 = System.nanoTime();
                List<byte[]> values = j.mget(keys);
                long mget = System.nanoTime() - t0;
                assertThat(values).hasSize(n + 1);
                for (int i = 0; i < n; i++) assertThat(Arrays.equals(values.get(i), sized(i, size))).as("MGET r:" + i).isTrue();
                assertThat(values.get(n)).isNull();

                // A pipeline that reads r:9 then overwrites it: the read is cut from its batch and sent
                // again, and the write waits with it, so the read still sees the old value.
                t0 = System.nanoTime();
                var pipe = j.pipelined();
                var gets = new ArrayList<Response<byte[]>>();
                for (int i = 0; i < n; i++) gets.add(pipe.get(keys[i]));
                var set = pipe.set(keys[n - 1], key("new"));
                var after = pipe.get(keys[n - 1]);
                pipe.sync();
                long pipelined = System.nanoTime() - t0;
                for (int i = 0; i < n; i++) assertThat(Arrays.equals(gets.get(i).get(), sized(i, size))).as("GET r:" + i).isTrue();
                assertThat(set.get()).isEqualTo("OK");
                assertThat(after.get()).isEqualTo(key("new"));
                System.out.printf("MEMORY-LIMITS replies: MGET of %d x 4 MiB in %d ms, a pipeline of %d GETs in %d ms, "
                        + "reply budget %d MiB%n", n, mget / 1_000_000, n, pipelined / 1_000_000, budget / MiB);
            }
            assertThat(shardErrors(spec.shardHttp()[0], "REPLY_FULL")).as("reads sent again").isGreaterThanOrEqualTo(2 * (n - 3));

            // The shard's own MultiGet refuses to build a reply past the budget, and says which limit.
            var ch = NettyChannelBuilder.forTarget(cluster.shard(0).grpcAddress()).usePlaintext()
                    .maxInboundMessageSize(64 * MiB).build();
            try {
                var shard = ShardGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
                var two = shard.multiGet(MultiGetRequest.newBuilder().addKeys(ByteString.copyFrom(keys[0]))
                        .addKeys(ByteString.copyFrom(keys[1])).build());
                assertThat(two.getValues(1).getValue().size()).isEqualTo(size);
                var all = MultiGetRequest.newBuilder();
                for (int i = 0; i < 4; i++) all.addKeys(ByteString.copyFrom(keys[i]));
                var refused = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
                        () -> ShardGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS).multiGet(all.build()));
                assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(refused.getStatus().getDescription()).startsWith("TOO_LARGE: reply too large: the values of the first 3 of 4 keys")
                        .endsWith("limit " + budget + " (limits.reply.bytes); ask for fewer keys per call");
            } finally {
                ch.shutdownNow();
            }
        }
    }

    /** A value of the given size, different for each i. */
    private static byte[] sized(int i, int size) {
        byte[] v = new byte[size];
        for (int j = 0; j < v.length; j += 4096) v[j] = (byte) (i * 31 + j / 4096);
        v[v.length - 1] = (byte) i;
        return v;
    }

    /** limedb_errors_total for a code, from a node's /metrics. */
    private static double shardErrors(int httpPort, String code) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(l -> l.startsWith("limedb_errors_total{") && l.contains("code=\"" + code + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static byte[] filler(int client, int i, int size) {
        byte[] v = new byte[size];
        Arrays.fill(v, (byte) ('a' + (client * 7 + i) % 26));
        return v;
    }

    /** Everything the server sends until it closes the connection. */
    private static String readAll(InputStream in) throws Exception {
        var buf = new ByteArrayOutputStream();
        in.transferTo(buf);
        return buf.toString(StandardCharsets.ISO_8859_1);
    }
}
