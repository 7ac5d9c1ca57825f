package io.limedb.node.shard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.limedb.api.v1.FenceRequest;
import io.limedb.api.v1.FollowRequest;
import io.limedb.api.v1.PromoteRequest;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.node.config.NodeConfig;
import io.limedb.testkit.net.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /lifecycle/pre-stop on real shard nodes in this JVM (RocksDB, gRPC, HTTP): a primary answers
 * once it is fenced at a higher epoch (as the operator's switchover does) or once the bound passes;
 * a replica answers at once; a waiting hook holds no event loop.
 */
class PreStopIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BOUND_MS = 3000;

    @TempDir
    Path dir;

    private final List<Member> members = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        for (Member m : members) m.replication().fence(FenceRequest.newBuilder().setEpoch(1000).build());
        for (Member m : members) m.close();
    }

    @Test
    void aPrimaryAnswersOnceFencedAtAHigherEpochAndAReplicaAtOnce() throws Exception {
        Member p = member("p"), r = member("r");
        p.replication().promote(PromoteRequest.newBuilder().setEpoch(1).build());
        r.replication().follow(FollowRequest.newBuilder().setPrimaryAddress(p.grpcAddress()).setEpoch(1).build());

        long start = System.nanoTime();
        var replica = json(get(r, "/lifecycle/pre-stop").get(5, TimeUnit.SECONDS));
        assertThat(millisSince(start)).isLessThan(1000);
        assertThat(replica.path("stepped_down").asBoolean()).isFalse();
        assertThat(replica.path("was_primary").asBoolean()).isFalse();
        assertThat(replica.path("role").asText()).isEqualTo("replica");

        var hook = get(p, "/lifecycle/pre-stop");
        Thread.sleep(500);
        assertThat(hook).as("a primary waits to be stepped down").isNotDone();
        start = System.nanoTime();
        assertThat(get(p, "/health/live").get(2, TimeUnit.SECONDS).statusCode()).as("no event loop is held").isEqualTo(200);
        assertThat(millisSince(start)).isLessThan(1000);

        long fenced = System.nanoTime();
        p.replication().fence(FenceRequest.newBuilder().setEpoch(2).build()); // the operator's switchover
        var answer = json(hook.get(5, TimeUnit.SECONDS));
        long afterFence = millisSince(fenced);
        System.out.printf("PRESTOP fenced primary answered %d ms after the fence: %s%n", afterFence, answer);
        assertThat(afterFence).isLessThan(1000);
        assertThat(answer.path("stepped_down").asBoolean()).isTrue();
        assertThat(answer.path("was_primary").asBoolean()).isTrue();
        assertThat(answer.path("role").asText()).isEqualTo("unknown");
        assertThat(answer.path("waited_ms").asLong()).isBetween(500L, BOUND_MS);
    }

    @Test
    void aPrimaryThatIsNeverFencedAnswersAfterTheBound() throws Exception {
        Member p = member("p");
        p.replication().promote(PromoteRequest.newBuilder().setEpoch(1).build());
        long start = System.nanoTime();
        var answer = json(get(p, "/lifecycle/pre-stop").get(10, TimeUnit.SECONDS));
        long took = millisSince(start);
        assertThat(took).isBetween(BOUND_MS, BOUND_MS + 1500);
        assertThat(answer.path("stepped_down").asBoolean()).isFalse();
        assertThat(answer.path("was_primary").asBoolean()).isTrue();
        assertThat(answer.path("role").asText()).isEqualTo("primary");
        assertThat(answer.path("waited_ms").asLong()).isGreaterThanOrEqualTo(BOUND_MS);
    }

    // ---- shard nodes in this JVM ----

    private Member member(String id) throws Exception {
        var m = new Member(id, dir.resolve(id));
        members.add(m);
        return m;
    }

    private CompletableFuture<HttpResponse<String>> get(Member m, String path) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static final class Member {
        final int grpcPort = Ports.next();
        final int httpPort = Ports.next();
        final ShardNode node;
        final ManagedChannel channel;

        Member(String id, Path data) throws Exception {
            node = new ShardNode(NodeConfig.resolve(List.of("--node.id=" + id, "--bind.host=127.0.0.1",
                    "--data.dir=" + data, "--grpc.port=" + grpcPort, "--http.port=" + httpPort, "--replication.mode=sync",
                    "--replication.min.in.sync=1", "--replication.lease.ms=100", "--lifecycle.prestop.wait.ms=" + BOUND_MS,
                    "--rocksdb.block.cache.mb=8", "--rocksdb.write.buffer.mb=8"), Map.of(), k -> null));
            channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        }

        String grpcAddress() {
            return "127.0.0.1:" + grpcPort;
        }

        ReplicationGrpc.ReplicationBlockingStub replication() {
            return ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        }

        void close() throws InterruptedException {
            channel.shutdownNow();
            node.close();
        }
    }
}
