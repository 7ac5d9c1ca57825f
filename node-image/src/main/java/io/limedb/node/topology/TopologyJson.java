package io.limedb.node.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.ShardInfo;
import io.limedb.core.topology.Topology;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Locale;

/**
 * The topology file format:
 * <pre>{"version": 1, "vnodes": 256, "shards": [
 *   {"id": "shard-0", "epoch": 1, "members": [{"id": "shard-0-0", "address": "127.0.0.1:9091", "role": "primary"}]},
 *   {"id": "shard-1", "address": "127.0.0.1:9092"}]}</pre>
 * A shard given by a bare "address" has that one member as its primary.
 */
public final class TopologyJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TopologyJson() {}

    public static Topology parse(byte[] json, int defaultVnodes) {
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
        }
        return new Topology(version, vnodes, list);
    }

    public static String write(Topology t) {
        ObjectNode root = MAPPER.createObjectNode().put("version", t.version()).put("vnodes", t.vnodes());
        ArrayNode shards = root.putArray("shards");
        for (ShardInfo s : t.shards()) {
            ObjectNode sn = shards.addObject().put("id", s.id()).put("epoch", s.epoch());
            ArrayNode ms = sn.putArray("members");
            for (Member m : s.members()) {
                ms.addObject().put("id", m.id()).put("address", m.address())
                        .put("role", m.role().name().toLowerCase(Locale.ROOT));
            }
        }
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
