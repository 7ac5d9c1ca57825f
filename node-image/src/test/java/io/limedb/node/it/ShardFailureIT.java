package io.limedb.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.ring.HashRing;
import io.limedb.node.dev.LocalCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/** A shard killed with kill -9 fails only its own keys, fast and clearly; its data is back after restart. */
class ShardFailureIT {
    @TempDir
    Path dir;

    @Test
    void killedShardFailsOnlyItsKeysAndServesThemAgainAfterRestart() throws Exception {
        try (LocalCluster cluster = TestCluster.start(dir, 3, List.of("--rpc.deadline.ms=2000"))) {
            var ring = HashRing.of(List.of("shard-0", "shard-1", "shard-2"), 256);
            Map<String, List<String>> keysByShard = new HashMap<>();
            try (var j = new Jedis("127.0.0.1", cluster.spec().coordinatorResp())) {
                for (int i = 0; i < 300; i++) {
                    String k = "fail:" + i;
                    j.set(k, "v" + i);
                    keysByShard.computeIfAbsent(ring.ownerOf(k.getBytes(StandardCharsets.UTF_8)), s -> new ArrayList<>()).add(k);
                }
            }
            assertThat(keysByShard).containsKeys("shard-0", "shard-1", "shard-2");

            cluster.kill(cluster.shard(1)); // kill -9
            try (var j = new Jedis("127.0.0.1", cluster.spec().coordinatorResp(), 10_000)) {
                for (String k : keysByShard.get("shard-1")) {
                    long start = System.nanoTime();
                    try {
                        j.get(k);
                        throw new AssertionError("read of " + k + " on the dead shard succeeded");
                    } catch (JedisDataException e) {
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                        assertThat(e.getMessage()).startsWith("CLUSTERDOWN").contains("shard-1").contains("unavailable");
                        assertThat(ms).as("failing fast, not waiting for a deadline").isLessThan(1500);
                    }
                }
                for (String shard : List.of("shard-0", "shard-2")) {
                    for (String k : keysByShard.get(shard)) {
                        assertThat(j.get(k)).isEqualTo("v" + k.substring(5));
                    }
                }
                // Writes to the live shards keep working too.
                assertThat(j.set(keysByShard.get("shard-0").get(0), "new")).isEqualTo("OK");
                j.set(keysByShard.get("shard-0").get(0), "v" + keysByShard.get("shard-0").get(0).substring(5));

                cluster.restart(cluster.shard(1), Duration.ofSeconds(60));
                Awaitility.await().atMost(10, TimeUnit.SECONDS).ignoreExceptions()
                        .until(() -> j.get(keysByShard.get("shard-1").get(0)) != null);
                for (var e : keysByShard.entrySet()) {
                    for (String k : e.getValue()) assertThat(j.get(k)).as(k).isEqualTo("v" + k.substring(5));
                }
            }
        }
    }

    @Test
    void dataSurvivesARestartOfTheWholeCluster() throws Exception {
        try (LocalCluster cluster = TestCluster.start(dir, 3, List.of());
             var j = new Jedis("127.0.0.1", cluster.spec().coordinatorResp())) {
            for (int i = 0; i < 500; i++) j.set("persist:" + i, "v" + i);
        }
        try (LocalCluster again = TestCluster.start(dir, 3, List.of());
             var j = new Jedis("127.0.0.1", again.spec().coordinatorResp())) {
            // New ports, same shard ids and data directories: the ring puts every key where it was.
            for (int i = 0; i < 500; i++) assertThat(j.get("persist:" + i)).isEqualTo("v" + i);
        }
    }
}
