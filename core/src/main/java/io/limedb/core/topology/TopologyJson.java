package io.limedb.core.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.limedb.core.control.ClusterState;
import io.limedb.core.control.FailoverIntent;
import io.limedb.core.reshard.Resharding;
import io.limedb.core.ring.Ownership;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Locale;

/**
 * The topology file format:
 * <pre>{"version": 1, "revision": 4, "vnodes": 256, "shards": [
 *   {"id": "shard-0", "epoch": 1, "members": [{"id": "shard-0-0", "address": "127.0.0.1:9091", "role": "primary"}],
 *    "failover": {"epoch": 2, "phase": "promoting", "new_primary": "shard-0-1", "expected_loss_records": 0}},
 *   {"id": "shard-1", "address": "127.0.0.1:9092"}]}</pre>
 * A shard given by a bare "address" has that one member as its primary. "revision" counts every
 * write of the file (the controller's compare-and-set version) and "failover" is a failover in
 * progress; coordinators read neither.
 */
public final class TopologyJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A controller's state as stored in the file, and the revision it was written at. */
    public record Stored(long revision, ClusterState state) {}

    private TopologyJson() {}

    /** The topology alone, as coordinators read it: a failover in progress is not looked at. */
    public static Topology parse(byte[] json, int defaultVnodes) {
        return parse(json, defaultVnodes, false).state().topology();
    }

    /** The topology, the failovers in progress, and the revision, as the controller reads them. */
    public static Stored parseState(byte[] json, int defaultVnodes) {
        return parse(json, defaultVnodes, true);
    }

    private static Stored parse(byte[] json, int defaultVnodes, boolean withIntents) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("topology is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("topology cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException("topology must be a JSON object");
        long version = root.path("version").asLong(0);
        int vnodes = root.path("vnodes").asInt(defaultVnodes);
        JsonNode shards = root.path("shards");
        if (!shards.isArray() || shards.isEmpty()) {
            throw new IllegalArgumentException("topology needs a non-empty \"shards\" array");
        }
        var list = new ArrayList<ShardInfo>();
        var intents = new HashMap<String, FailoverIntent>();
        for (JsonNode s : shards) {
            String id = text(s, "id", "shard");
            var members = new ArrayList<Member>();
            if (s.has("members")) {
                for (JsonNode m : s.get("members")) {
                    String address = text(m, "address", "member of " + id);
                    members.add(new Member(m.path("id").asText(address), address,
                            Role.parse(m.path("role").asText("primary"))));
                }
            } else {
                members.add(new Member(id, text(s, "address", "shard " + id), Role.PRIMARY));
            }
            list.add(new ShardInfo(id, s.path("epoch").asLong(0), members));
            JsonNode f = s.get("failover");
            if (withIntents && f != null && !f.isNull()) intents.put(id, intent(id, f));
        }
        Ownership ownership = null;
        JsonNode ring = root.get("ring");
        if (ring != null && !ring.isNull()) {
            var flipped = new java.util.LinkedHashSet<Ownership.Pair>();
            for (JsonNode f : ring.path("flipped")) flipped.add(Ownership.Pair.parse(f.asText()));
            ownership = new Ownership(ring.path("version").asLong(1), vnodes, strings(ring.path("shards"), "ring shards"),
                    strings(ring.path("next"), null), flipped);
        }
        var topology = new Topology(version, vnodes, list, ownership);
        Resharding resharding = null;
        JsonNode r = root.get("resharding");
        if (topology.ownership().resharding()) {
            var moves = new java.util.LinkedHashMap<Ownership.Pair, Resharding.Move>();
            if (withIntents && r != null) {
                for (JsonNode m : r.path("moves")) {
                    var pair = new Ownership.Pair(text(m, "source", "move"), text(m, "target", "move"));
                    Resharding.Phase phase;
                    try {
                        phase = Resharding.Phase.valueOf(text(m, "phase", "move " + pair).toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("move " + pair + ": phase must be copying, flipping, flipped or done");
                    }
                    moves.put(pair, new Resharding.Move(phase, m.path("ranges").asInt(0), m.path("keys").asLong(0),
                            m.path("bytes").asLong(0)));
                }
            }
            resharding = new Resharding(moves);
        }
        return new Stored(root.path("revision").asLong(0), new ClusterState(topology, intents, resharding));
    }

    private static java.util.List<String> strings(JsonNode array, String requiredWhat) {
        var out = new ArrayList<String>();
        if (array.isArray()) array.forEach(n -> out.add(n.asText()));
        if (requiredWhat != null && out.isEmpty()) throw new IllegalArgumentException("topology needs non-empty " + requiredWhat);
        return out;
    }

    private static FailoverIntent intent(String shard, JsonNode f) {
        String phase = text(f, "phase", "failover of shard " + shard);
        FailoverIntent.Phase p;
        try {
            p = FailoverIntent.Phase.valueOf(phase.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("failover of shard " + shard + ": phase must be fencing or promoting, got '"
                    + phase + "'");
        }
        return new FailoverIntent(f.path("epoch").asLong(0), p, f.path("new_primary").asText(""),
                f.path("expected_loss_records").asLong(0));
    }

    public static String write(Topology t) {
        return writeState(ClusterState.of(t), 0);
    }

    public static String writeState(ClusterState state, long revision) {
        var t = state.topology();
        ObjectNode root = MAPPER.createObjectNode().put("version", t.version());
        if (revision > 0) root.put("revision", revision);
        root.put("vnodes", t.vnodes());
        ArrayNode shards = root.putArray("shards");
        for (ShardInfo s : t.shards()) {
            ObjectNode sn = shards.addObject().put("id", s.id()).put("epoch", s.epoch());
            ArrayNode ms = sn.putArray("members");
            for (Member m : s.members()) {
                ms.addObject().put("id", m.id()).put("address", m.address())
                        .put("role", m.role().name().toLowerCase(Locale.ROOT));
            }
            state.intent(s.id()).ifPresent(i -> {
                ObjectNode f = sn.putObject("failover").put("epoch", i.epoch())
                        .put("phase", i.phase().name().toLowerCase(Locale.ROOT));
                if (!i.newPrimary().isEmpty()) f.put("new_primary", i.newPrimary());
                if (i.expectedLossRecords() > 0) f.put("expected_loss_records", i.expectedLossRecords());
            });
        }
        var o = t.ownership();
        ObjectNode ring = root.putObject("ring").put("version", o.version());
        o.shards().forEach(ring.putArray("shards")::add);
        if (o.resharding()) {
            o.next().forEach(ring.putArray("next")::add);
            var f = ring.putArray("flipped");
            o.flipped().forEach(p -> f.add(p.toString()));
        }
        state.reshardingInProgress().ifPresent(r -> {
            var moves = root.putObject("resharding").putArray("moves");
            r.moves().forEach((pair, m) -> moves.addObject().put("source", pair.source()).put("target", pair.target())
                    .put("phase", m.phase().name().toLowerCase(Locale.ROOT)).put("ranges", m.ranges())
                    .put("keys", m.keys()).put("bytes", m.bytes()));
        });
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String text(JsonNode n, String field, String what) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException(what + " needs a non-empty \"" + field + "\" string");
        }
        return v.asText();
    }
}
