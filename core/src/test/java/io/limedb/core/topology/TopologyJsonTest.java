package io.limedb.core.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.control.ClusterState;
import io.limedb.core.control.FailoverIntent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TopologyJsonTest {

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

}
