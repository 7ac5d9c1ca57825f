package io.limedb.node.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.DeleteRequest;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.IncrementRequest;
import io.limedb.api.v1.KVGrpc;
import io.limedb.api.v1.MultiGetRequest;
import io.limedb.api.v1.PutRequest;
import io.limedb.node.dev.LocalCluster;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.SetParams;

/** Every client API of the coordinator against a real coordinator and 3 real shard processes. */
class ClientApisIT {
    private static final int VALUE_LIMIT = 1 << 20;
    private static final int KEY_LIMIT = 1024;

    @TempDir
    static Path dir;
    static LocalCluster cluster;
    static HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void up() throws Exception {
        cluster = TestCluster.start(dir, 3, List.of("--limits.value.bytes=" + VALUE_LIMIT, "--limits.key.bytes=" + KEY_LIMIT));
    }

    @AfterAll
    static void down() throws Exception {
        if (cluster != null) cluster.close();
    }

    static int resp() {
        return cluster.spec().coordinatorResp();
    }

    static String base() {
        return "http://127.0.0.1:" + cluster.spec().coordinatorHttp();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void restThousandSetsAndGets() throws Exception {
        for (int i = 0; i < 1000; i++) {
            var r = post("/api/v1/set", "{\"key\": \"rest:" + i + "\", \"value\": \"value-" + i + "\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        for (int i = 0; i < 1000; i++) {
            var r = get("/api/v1/get/rest:" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("value-" + i);
        }
        assertThat(get("/api/v1/get/rest:missing").statusCode()).isEqualTo(404);
        var del = http.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/del/rest:5")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(del.statusCode()).isEqualTo(200);
        assertThat(del.body()).contains("\"deleted\":true");
        assertThat(get("/api/v1/get/rest:5").statusCode()).isEqualTo(404);
        // Keys with characters that need URL encoding.
        assertThat(post("/api/v1/set", "{\"key\": \"a b/ü?\", \"value\": \"x\"}").statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/get/a%20b%2F%C3%BC%3F").body()).isEqualTo("x");
    }

    @Test
    void restClusterStateAndRingDescribeEveryShard() throws Exception {
        var state = get("/api/v1/cluster/state");
        assertThat(state.statusCode()).isEqualTo(200);
        assertThat(state.body()).contains("\"status\":\"ok\"", "shard-0", "shard-1", "shard-2", "\"role\":\"primary\"",
                "\"reachable\":true");
        var ring = get("/api/v1/cluster/ring");
        assertThat(ring.body()).contains("\"vnodes\":256", "\"share\":");
        assertThat(get("/health/ready").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").body()).contains("limedb_requests_seconds_bucket");
    }

    @Test
    void restRejectsBadInputWithClearErrors() throws Exception {
        var notJson = post("/api/v1/set", "{nope");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("not valid JSON");
        assertThat(post("/api/v1/set", "{\"key\": 1, \"value\": \"v\"}").body()).contains("must be a string");
        assertThat(post("/api/v1/set", "{\"key\": \"k\"}").statusCode()).isEqualTo(400);
        var bigKey = post("/api/v1/set", "{\"key\": \"" + "k".repeat(KEY_LIMIT + 1) + "\", \"value\": \"v\"}");
        assertThat(bigKey.statusCode()).isEqualTo(413);
        assertThat(bigKey.body()).contains("key too large");
        var bigValue = post("/api/v1/set", "{\"key\": \"big\", \"value\": \"" + "v".repeat(VALUE_LIMIT + 1) + "\"}");
        assertThat(bigValue.statusCode()).isEqualTo(413);
        assertThat(get("/api/v1/get/big").statusCode()).isEqualTo(404);
        assertThat(get("/api/v1/nothing").statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/set")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
        assertThat(get("/health/live").statusCode()).isEqualTo(200); // still serving
    }

    @Test
    void redisCliCommandsWork() throws Exception {
        assertThat(cli("PING")).isEqualTo("PONG");
        assertThat(cli("SET", "cli:k", "hello world")).isEqualTo("OK");
        assertThat(cli("GET", "cli:k")).isEqualTo("hello world");
        assertThat(cli("MSET", "cli:a", "1", "cli:b", "2")).isEqualTo("OK");
        assertThat(cli("MGET", "cli:none", "cli:a", "cli:b")).isEqualTo("\n1\n2");
        assertThat(cli("INCR", "cli:n")).isEqualTo("1");
        assertThat(cli("INCRBY", "cli:n", "41")).isEqualTo("42");
        assertThat(cli("DECR", "cli:n")).isEqualTo("41");
        assertThat(cli("EXISTS", "cli:a", "cli:b", "cli:none")).isEqualTo("2");
        assertThat(cli("DEL", "cli:a", "cli:b", "cli:none")).isEqualTo("2");
        assertThat(cli("SET", "cli:k", "x", "NX")).isEmpty(); // nil
        assertThat(cli("INCR", "cli:k")).isEqualTo("ERR value is not an integer or out of range");
        assertThat(cli("NOSUCH", "x")).startsWith("ERR unknown command 'NOSUCH'");
        assertThat(cli("GET")).isEqualTo("ERR wrong number of arguments for 'get' command");
        assertThat(Long.parseLong(cli("DBSIZE"))).isPositive();
        assertThat(cli("INFO")).contains("redis_version:", "db0:keys=");
        assertThat(cli("SELECT", "0")).isEqualTo("OK");
    }

    @Test
    void redisBenchmarkRunsCleanlyAgainstTheRespPort() throws Exception {
        var p = new ProcessBuilder("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(resp()), "-t", "set,get",
                "-n", "20000", "-c", "50", "-P", "4", "-q").redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("SET: ", "GET: ", "requests per second").doesNotContain("ERR", "Error");
        try (var j = new Jedis("127.0.0.1", resp())) {
            assertThat(j.get("key:__rand_int__")).hasSize(3); // what redis-benchmark SET wrote (-d 3)
        }
    }

    @Test
    void jedisSpeaksToLimeDbLikeToRedis() {
        try (var j = new Jedis("127.0.0.1", resp())) {
            byte[] key = {0, 1, '\r', '\n', (byte) 0xff};
            byte[] value = new byte[100_000];
            new java.util.Random(7).nextBytes(value);
            assertThat(j.set(key, value)).isEqualTo("OK");
            assertThat(j.get(key)).isEqualTo(value);
            assertThat(j.mset("j:1", "a", "j:2", "b")).isEqualTo("OK");
            assertThat(j.mget("j:1", "j:2", "j:3")).containsExactly("a", "b", null);
            assertThat(j.incrBy("j:n", 10)).isEqualTo(10);
            assertThat(j.set("j:nx", "1", SetParams.setParams().nx())).isEqualTo("OK");
            assertThat(j.set("j:nx", "2", SetParams.setParams().nx())).isNull();
            assertThat(j.set("j:xx", "2", SetParams.setParams().xx())).isNull();
            assertThat(j.set("j:ttl", "v", SetParams.setParams().px(300))).isEqualTo("OK");
            assertThat(j.get("j:ttl")).isEqualTo("v");
            org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> j.get("j:ttl") == null);
            assertThat(j.del("j:1", "j:2", "j:3")).isEqualTo(2);
            j.set("j:text", "abc");
            assertThatThrownBy(() -> j.incr("j:text")).isInstanceOf(JedisDataException.class)
                    .hasMessage("ERR value is not an integer or out of range");
            assertThat(j.ping()).isEqualTo("PONG"); // the connection is still usable after an error

            var pipe = j.pipelined();
            for (int i = 0; i < 2000; i++) pipe.set("pipe:" + i, "v" + i);
            var gets = new ArrayList<redis.clients.jedis.Response<String>>();
            for (int i = 0; i < 2000; i++) gets.add(pipe.get("pipe:" + i));
            pipe.sync();
            for (int i = 0; i < 2000; i++) assertThat(gets.get(i).get()).isEqualTo("v" + i);
        }
    }

    @Test
    void grpcRoundTrip() {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", cluster.spec().coordinatorGrpc()).usePlaintext().build();
        try {
            var kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
            var key = ByteString.copyFrom(new byte[] {1, 2, 3, 0, 4});
            assertThat(kv.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("grpc")).build())
                    .getApplied()).isTrue();
            var got = kv.get(GetRequest.newBuilder().setKey(key).build());
            assertThat(got.getFound()).isTrue();
            assertThat(got.getValue().toStringUtf8()).isEqualTo("grpc");
            var multi = kv.multiGet(MultiGetRequest.newBuilder().addKeys(key).addKeys(ByteString.copyFromUtf8("grpc:none")).build());
            assertThat(multi.getValuesList()).extracting(v -> v.getFound()).containsExactly(true, false);
            assertThat(kv.increment(IncrementRequest.newBuilder().setKey(ByteString.copyFromUtf8("grpc:n")).setDelta(3).build())
                    .getValue()).isEqualTo(3);
            assertThat(kv.delete(DeleteRequest.newBuilder().setKey(key).build()).getExisted()).isTrue();
            assertThat(kv.get(GetRequest.newBuilder().setKey(key).build()).getFound()).isFalse();
            assertThatThrownBy(() -> kv.put(PutRequest.newBuilder().setKey(ByteString.copyFrom(new byte[KEY_LIMIT + 1]))
                    .setValue(ByteString.copyFromUtf8("v")).build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT")
                    .hasMessageContaining("key too large");
            assertThatThrownBy(() -> kv.get(GetRequest.getDefaultInstance())).hasMessageContaining("empty key");
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void respBadInputGetsErrorsAndHarmsNothing() throws Exception {
        try (var j = new Jedis("127.0.0.1", resp())) {
            j.set("safe", "untouched");
            var big = new byte[KEY_LIMIT + 1];
            assertThatThrownBy(() -> j.set(big, "v".getBytes())).hasMessageContaining("key too large");
            assertThat(j.get("safe")).isEqualTo("untouched");
        }
        // Malformed framing: "Protocol error", then the server closes the connection.
        for (String garbage : List.of("*abc\r\n", "*1\r\n$-5\r\n", "*1\r\nGET\r\n", "*2\r\n$3\r\nGET\r\n$" + (VALUE_LIMIT + 1) + "\r\n")) {
            String reply = rawExchange(garbage);
            assertThat(reply).as(garbage).startsWith("-ERR Protocol error");
        }
        try (var j = new Jedis("127.0.0.1", resp())) {
            assertThat(j.get("safe")).isEqualTo("untouched");
        }
    }

    /** Sends raw bytes, returns everything the server answers until it closes the connection. */
    private static String rawExchange(String request) throws Exception {
        try (var s = new Socket("127.0.0.1", resp())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            var buf = new ByteArrayOutputStream();
            in.transferTo(buf); // returns when the server closes: proves it closed
            return buf.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static String cli(String... args) throws Exception {
        var cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(resp())));
        cmd.addAll(List.of(args));
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return out.stripTrailing(); // one line per reply; a nil is an empty line
    }

}
