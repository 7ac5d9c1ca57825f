package io.limedb.node.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.control.ClusterState;
import io.limedb.core.control.FailoverIntent;
import io.limedb.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopologyJsonTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesFullAndShorthandFormsAndWritesWhatItReads() {
        var t = TopologyJson.parse(b("""
                {"version": 7, "vnodes": 64, "shards": [
                  {"id": "shard-0", "epoch": 3, "members": [
                     {"id": "a", "address": "h1:1", "role": "replica"}, {"id": "b", "address": "h2:2", "role": "primary"}]},
                  {"id": "shard-1", "address": "h3:3"}]}"""), 256);
        assertThat(t.version()).isEqualTo(7);
        assertThat(t.vnodes()).isEqualTo(64);
        assertThat(t.shards().get(0).primary().address()).isEqualTo("h2:2");
        assertThat(t.shards().get(0).members().get(0).role()).isEqualTo(Role.REPLICA);
        assertThat(t.shards().get(1).primary().address()).isEqualTo("h3:3");
        assertThat(TopologyJson.parse(b(TopologyJson.write(t)), 1)).isEqualTo(t);
    }

    @Test
    void rejectsInvalidTopologiesWithAMessageThatSaysWhatIsWrong() {
        assertThatThrownBy(() -> TopologyJson.parse(b("{"), 8)).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> TopologyJson.parse(b("{\"shards\": []}"), 8)).hasMessageContaining("non-empty \"shards\"");
        assertThatThrownBy(() -> TopologyJson.parse(b("{\"shards\": [{\"address\": \"h:1\"}]}"), 8))
                .hasMessageContaining("\"id\"");
        assertThatThrownBy(() -> TopologyJson.parse(b("{\"shards\": [{\"id\": \"s\", \"address\": \"nohost\"}]}"), 8))
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> TopologyJson.parse(b("{\"shards\": [{\"id\": \"s\", \"members\": ["
                + "{\"address\": \"h:1\", \"role\": \"replica\"}]}]}"), 8)).hasMessageContaining("exactly one primary");
        assertThatThrownBy(() -> TopologyJson.parse(b("{\"shards\": [{\"id\": \"s\", \"address\": \"h:1\"},"
                + "{\"id\": \"s\", \"address\": \"h:2\"}]}"), 8)).hasMessageContaining("duplicate shard id");
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
    void theControllersStateRoundTripsAndCoordinatorsIgnoreIt() {
        var t = TopologyJson.parse(b("""
                {"version": 3, "shards": [{"id": "s0", "epoch": 2, "members": [
                   {"id": "a", "address": "h:1", "role": "primary"}, {"id": "b", "address": "h:2", "role": "replica"}]},
                 {"id": "s1", "address": "h:3"}]}"""), 16);
        var state = ClusterState.of(t).withIntent("s0", FailoverIntent.promoting(3, "b", 7))
                .withIntent("s1", FailoverIntent.fencing(1));
        String json = TopologyJson.writeState(state, 12);
        assertThat(json).contains("\"revision\" : 12").contains("\"phase\" : \"promoting\"").contains("\"new_primary\" : \"b\"");
        var stored = TopologyJson.parseState(b(json), 1);
        assertThat(stored.revision()).isEqualTo(12);
        assertThat(stored.state()).isEqualTo(state);
        assertThat(TopologyJson.parse(b(json), 1)).isEqualTo(t);
        assertThat(TopologyJson.parse(b(json.replace("promoting", "bogus")), 1)).as("coordinators do not look").isEqualTo(t);
        assertThatThrownBy(() -> TopologyJson.parseState(b(json.replace("promoting", "bogus")), 1))
                .hasMessageContaining("phase must be fencing or promoting");
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
