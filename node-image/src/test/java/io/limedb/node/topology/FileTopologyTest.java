package io.limedb.node.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.limedb.core.control.ClusterState;
import io.limedb.core.control.FailoverIntent;
import io.limedb.core.topology.TopologyJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The topology file: the coordinators' source and the local controller's store. */
class FileTopologyTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void fileSourceFollowsChangesAndIgnoresInvalidOrOlderContent() throws Exception {
        Path f = dir.resolve("topology.json");
        Files.writeString(f, "{\"version\": 1, \"shards\": [{\"id\": \"s0\", \"address\": \"h:1\"}]}");
        var seen = new AtomicReference<Long>();
        try (var src = new FileTopologySource(f, 16, 20)) {
            src.subscribe(t -> seen.set(t.version()));
            assertThat(seen.get()).isEqualTo(1L);
            Files.writeString(f, "{ broken");
            Awaitility.await().until(() -> src.lastError() != null);
            assertThat(src.current().orElseThrow().version()).isEqualTo(1);
            Files.writeString(f, "{\"version\": 2, \"shards\": [{\"id\": \"s0\", \"address\": \"h:1\"},"
                    + "{\"id\": \"s1\", \"address\": \"h:2\"}]}");
            Awaitility.await().until(() -> seen.get() == 2L);
            assertThat(src.current().orElseThrow().shards()).hasSize(2);
            Files.writeString(f, "{\"version\": 1, \"shards\": [{\"id\": \"s0\", \"address\": \"h:1\"}]}");
            Awaitility.await().until(() -> src.lastError() != null && src.lastError().contains("older"));
            assertThat(src.current().orElseThrow().version()).isEqualTo(2);
        }
    }

    @Test
    void fileStoreWritesOnlyOverTheVersionItRead() throws Exception {
        Path f = dir.resolve("topology.json");
        var store = new FileTopologyStore(f, 16);
        var t = TopologyJson.parse(b("{\"version\": 1, \"shards\": [{\"id\": \"s0\", \"address\": \"h:1\"}]}"), 16);
        assertThat(store.current()).isEmpty();
        assertThat(store.compareAndSet("0", ClusterState.of(t))).isTrue();
        var v = store.read();
        assertThat(v.version()).isEqualTo("1");
        assertThat(store.compareAndSet("0", ClusterState.of(t))).as("stale version").isFalse();
        var next = v.state().withIntent("s0", FailoverIntent.fencing(2));
        assertThat(store.compareAndSet(v.version(), next)).isTrue();
        assertThat(new FileTopologyStore(f, 16).read()).isEqualTo(new io.limedb.core.control.TopologyStore.Versioned("2", next));
        try (var src = new FileTopologySource(f, 16, 10_000)) {
            var seen = new java.util.ArrayList<Long>();
            src.subscribe(x -> seen.add(x.version()));
            assertThat(store.compareAndSet("2", next.withIntent("s0", FailoverIntent.fencing(3)))).isTrue();
            src.refresh();
            assertThat(seen).as("a change of the controller's bookkeeping alone is not a new topology").containsExactly(1L);
        }
    }
}
