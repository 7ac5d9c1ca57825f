package io.limedb.core.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.limedb.core.control.ClusterState;
import io.limedb.core.control.FailoverIntent;
import io.limedb.core.reshard.ReshardPlan;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.reshard.Resharding.Phase;
import io.limedb.core.ring.Ownership;
import io.limedb.core.ring.Ownership.Pair;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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

    private static final List<String> THREE = List.of("shard-0", "shard-1", "shard-2");
    private static final List<String> FIVE = List.of("shard-0", "shard-1", "shard-2", "shard-3", "shard-4");

    private static Topology fiveShards(Ownership ownership) {
        var shards = new ArrayList<ShardInfo>();
        for (int i = 0; i < 5; i++) {
            shards.add(new ShardInfo("shard-" + i, i + 1, List.of(new Member("shard-" + i + "-0", "h:" + (100 + i), Role.PRIMARY),
                    new Member("shard-" + i + "-1", "h:" + (200 + i), Role.REPLICA))));
        }
        return new Topology(9, 16, shards, ownership);
    }

    /** Three shards resharding to five: one move done, one flipped, one flipping, the rest copying at various points. */
    private static ClusterState reshardingState() {
        var plan = ReshardPlan.between(THREE, FIVE, 16);
        var done = new Pair("shard-0", "shard-3");
        var flipped = new Pair("shard-0", "shard-4");
        var flipping = new Pair("shard-1", "shard-3");
        assertThat(plan.moves()).containsKeys(done, flipped, flipping).hasSizeGreaterThan(3);
        var ownership = Ownership.of(THREE, 16).begin(FIVE).flip(done).flip(flipped);
        var progress = Resharding.start(plan);
        progress = progress.with(done, progress.moves().get(done).copied(120, 4096).with(Phase.DONE));
        progress = progress.with(flipped, progress.moves().get(flipped).copied(7, 300).with(Phase.FLIPPED));
        progress = progress.with(flipping, progress.moves().get(flipping).copied(55, 1L << 33).with(Phase.FLIPPING));
        progress = progress.with(new Pair("shard-2", "shard-4"), progress.moves().get(new Pair("shard-2", "shard-4")).copied(3, 9));
        return new ClusterState(fiveShards(ownership), java.util.Map.of("shard-2", FailoverIntent.fencing(4)), progress);
    }

    @Test
    void aReshardingInProgressRoundTrips() {
        var state = reshardingState();
        String json = TopologyJson.writeState(state, 31);
        assertThat(json).contains("\"flipped\"").contains("shard-0>shard-3").contains("\"phase\" : \"flipping\"")
                .contains("\"phase\" : \"done\"").contains("\"next\"");
        var stored = TopologyJson.parseState(b(json), 256);
        assertThat(stored.revision()).isEqualTo(31);
        assertThat(stored.state()).isEqualTo(state);
        var o = stored.state().topology().ownership();
        assertThat(o.version()).isEqualTo(3);
        assertThat(o.vnodes()).isEqualTo(16);
        assertThat(o.shards()).isEqualTo(THREE);
        assertThat(o.next()).isEqualTo(FIVE);
        assertThat(o.flipped()).containsExactlyInAnyOrder(new Pair("shard-0", "shard-3"), new Pair("shard-0", "shard-4"));
        var r = stored.state().reshardingInProgress().orElseThrow();
        assertThat(r.moves()).isEqualTo(state.resharding().moves());
        assertThat(r.moves().get(new Pair("shard-1", "shard-3"))).isEqualTo(
                new Resharding.Move(Phase.FLIPPING, state.resharding().moves().get(new Pair("shard-1", "shard-3")).ranges(), 55,
                        1L << 33));
        assertThat(r.movedRanges()).isEqualTo(state.resharding().movedRanges()).isPositive();
        assertThat(TopologyJson.writeState(stored.state(), 31)).as("written again, the same file").isEqualTo(json);

        var coordinators = TopologyJson.parse(b(json), 256);
        assertThat(coordinators).isEqualTo(state.topology());
        assertThat(coordinators.ownership().ownerOf(42)).isEqualTo(o.ownerOf(42));
    }

    @Test
    void aSettledRingAfterAReshardingRoundTrips() {
        var state = ClusterState.of(fiveShards(Ownership.of(THREE, 16).begin(FIVE).settle()));
        String json = TopologyJson.writeState(state, 2);
        assertThat(json).doesNotContain("\"next\"").doesNotContain("\"resharding\"");
        var stored = TopologyJson.parseState(b(json), 256);
        assertThat(stored.state()).isEqualTo(state);
        assertThat(stored.state().topology().ownership().version()).isEqualTo(2);
        assertThat(stored.state().resharding()).isNull();
    }

    @Test
    void aTopologyWithoutARingHasEveryShardInARingAtVersionOne() {
        var json = b("""
                {"version": 4, "vnodes": 32, "shards": [
                  {"id": "s0", "address": "h:1"}, {"id": "s1", "address": "h:2"}, {"id": "s2", "address": "h:3"}]}""");
        var t = TopologyJson.parse(json, 256);
        assertThat(t.ownership().shards()).containsExactly("s0", "s1", "s2");
        assertThat(t.ownership().version()).isEqualTo(1);
        assertThat(t.ownership().vnodes()).isEqualTo(32);
        assertThat(t.ownership().resharding()).isFalse();
        assertThat(t.ownership()).isEqualTo(Ownership.of(List.of("s0", "s1", "s2"), 32));
        var stored = TopologyJson.parseState(json, 256);
        assertThat(stored.state().topology()).isEqualTo(t);
        assertThat(stored.state().reshardingInProgress()).isEmpty();
        assertThat(TopologyJson.parse(b(TopologyJson.write(t)), 256)).as("written with its ring").isEqualTo(t);
    }

    @Test
    void aFlippedPairWithoutAnArrowIsRefusedWithAMessageNamingIt() {
        var json = TopologyJson.writeState(reshardingState(), 3).replace("\"shard-0>shard-3\"", "\"shard-0 shard-3\"");
        assertThatThrownBy(() -> TopologyJson.parseState(b(json), 256)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("source>target").hasMessageContaining("'shard-0 shard-3'");
        assertThatThrownBy(() -> TopologyJson.parse(b(json), 256)).as("coordinators read the ring too")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("source>target");
        var toItself = TopologyJson.writeState(reshardingState(), 3).replace("\"shard-0>shard-3\"", "\"shard-0>shard-0\"");
        assertThatThrownBy(() -> TopologyJson.parseState(b(toItself), 256)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("two different shards");
    }

    @Test
    void aRingNamingAShardTheTopologyLacksIsRefused() {
        assertThatThrownBy(() -> TopologyJson.parse(b("""
                {"shards": [{"id": "s0", "address": "h:1"}, {"id": "s1", "address": "h:2"}],
                 "ring": {"version": 3, "shards": ["s0", "s1", "s7"]}}"""), 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("s7");
        assertThatThrownBy(() -> TopologyJson.parseState(b("""
                {"shards": [{"id": "s0", "address": "h:1"}, {"id": "s1", "address": "h:2"}],
                 "ring": {"version": 3, "shards": ["s0"], "next": ["s0", "s9"]},
                 "resharding": {"moves": [{"source": "s0", "target": "s9", "phase": "copying"}]}}"""), 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("s9");
        assertThatThrownBy(() -> TopologyJson.parse(b("""
                {"shards": [{"id": "s0", "address": "h:1"}], "ring": {"version": 1, "shards": []}}"""), 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ring shards");
        assertThatThrownBy(() -> TopologyJson.parse(b("""
                {"shards": [{"id": "s0", "address": "h:1"}, {"id": "s1", "address": "h:2"}],
                 "ring": {"version": 2, "shards": ["s0", "s1"], "flipped": ["s0>s1"]}}"""), 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without a ring being moved to");
        assertThatThrownBy(() -> TopologyJson.parseState(b(TopologyJson.writeState(reshardingState(), 3)
                .replace("\"phase\" : \"flipping\"", "\"phase\" : \"sideways\"")), 256))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shard-1>shard-3")
                .hasMessageContaining("copying, flipping, flipped or done");
    }

}
