package io.limedb.node.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.limedb.api.v1.PutRequest;
import io.limedb.core.topology.Member;
import io.limedb.core.topology.ShardInfo;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.limedb.node.http.HttpServer.Request;
import io.limedb.node.http.HttpServer.Response;
import io.limedb.node.http.HttpServer.Route;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * LimeDB's REST API (compatible with the original /api/v1 paths): set, get, del, cluster state and
 * ring. Keys in paths are URL-decoded UTF-8; values are UTF-8 strings in JSON and raw bytes in GET.
 */
public final class RestApi {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GET = "/api/v1/get/";
    private static final String DEL = "/api/v1/del/";

    private final Coordinator coordinator;
    private final ClusterAdmin admin;
    private final String topologySource;
    private final LongSupplier clockMs;

    public RestApi(Coordinator coordinator, ClusterAdmin admin, String topologySource, LongSupplier clockMs) {
        this.coordinator = coordinator;
        this.admin = admin;
        this.topologySource = topologySource;
        this.clockMs = clockMs;
    }

    public List<Route> routes() {
        return List.of(
                new Route(HttpMethod.POST, "/api/v1/set", this::set),
                new Route(HttpMethod.PUT, "/api/v1/set", this::set),
                new Route(HttpMethod.GET, GET, this::get),
                new Route(HttpMethod.DELETE, DEL, this::delete),
                new Route(HttpMethod.GET, "/api/v1/cluster/state", r -> state()),
                new Route(HttpMethod.GET, "/api/v1/cluster/ring",
                        r -> CompletableFuture.completedFuture(Response.json(200, admin.ringView()))));
    }

    private CompletableFuture<Response> set(Request r) {
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException e) {
            throw bad("request body is not valid JSON; send {\"key\": \"...\", \"value\": \"...\"}");
        }
        if (body == null || !body.isObject()) throw bad("request body must be a JSON object {\"key\": \"...\", \"value\": \"...\"}");
        JsonNode key = body.get("key"), value = body.get("value"), ttl = body.get("ttl_seconds");
        if (key == null || !key.isTextual()) throw bad("\"key\" must be a string");
        if (value == null || !value.isTextual()) throw bad("\"value\" must be a string");
        long expireAt = 0;
        if (ttl != null && !ttl.isNull()) {
            if (!ttl.canConvertToLong() || ttl.asLong() <= 0) throw bad("\"ttl_seconds\" must be a positive integer");
            expireAt = clockMs.getAsLong() + ttl.asLong() * 1000;
        }
        byte[] k = key.asText().getBytes(StandardCharsets.UTF_8);
        var put = PutRequest.newBuilder().setKey(ByteString.copyFrom(k))
                .setValue(ByteString.copyFromUtf8(value.asText())).setExpireAtMs(expireAt).build();
        return coordinator.put(put).thenApply(ok -> Response.json(200, Map.of("key", key.asText(), "stored", true)));
    }

    private CompletableFuture<Response> get(Request r) {
        String key = pathKey(r.path(), GET);
        return coordinator.get(key.getBytes(StandardCharsets.UTF_8)).thenApply(v -> v == null
                ? Response.json(404, Map.of("error", "key not found", "key", key))
                : new Response(200, "application/octet-stream", v));
    }

    private CompletableFuture<Response> delete(Request r) {
        String key = pathKey(r.path(), DEL);
        return coordinator.delete(key.getBytes(StandardCharsets.UTF_8))
                .thenApply(existed -> Response.json(200, Map.of("key", key, "deleted", existed)));
    }

    private CompletableFuture<Response> state() {
        var table = coordinator.router().table();
        return admin.members().thenApply(members -> {
            var out = new LinkedHashMap<String, Object>();
            out.put("topology_version", table.topology().version());
            out.put("topology_source", topologySource);
            out.put("vnodes_per_shard", table.ring().vnodes());
            var o = table.topology().ownership();
            out.put("ring_version", o.version());
            out.put("ring", o.shards());
            if (o.resharding()) {
                out.put("resharding_to", o.next());
                out.put("flipped", o.flipped().stream().map(Object::toString).toList());
            }
            var owned = o.ranges(); // what each shard owns now, resharding or not
            var shares = new java.util.HashMap<String, Double>();
            owned.forEach((id, set) -> shares.put(id, set.share()));
            var shards = new ArrayList<Map<String, Object>>();
            boolean healthy = true;
            for (ShardInfo s : table.topology().shards()) {
                var sm = new LinkedHashMap<String, Object>();
                sm.put("id", s.id());
                sm.put("epoch", s.epoch());
                sm.put("share", Math.round(shares.getOrDefault(s.id(), 0.0) * 1_000_000) / 10_000.0);
                var list = new ArrayList<Map<String, Object>>();
                for (var m : members) {
                    if (!m.shard().id().equals(s.id())) continue;
                    list.add(member(m.member(), m));
                    if (!m.reachable()) healthy = false;
                }
                sm.put("members", list);
                shards.add(sm);
            }
            out.put("status", healthy ? "ok" : "degraded");
            out.put("shards", shards);
            return Response.json(200, out);
        });
    }

    private static Map<String, Object> member(Member m, ClusterAdmin.MemberStatus st) {
        var mm = new LinkedHashMap<String, Object>();
        mm.put("id", m.id());
        mm.put("address", m.address());
        mm.put("role", m.role().name().toLowerCase(Locale.ROOT));
        mm.put("reachable", st.reachable());
        var r = st.replication();
        if (r != null) {
            // What the member itself says: the topology's role may lag a failover by one poll.
            mm.put("reported_role", r.getRole().name().toLowerCase(Locale.ROOT));
            mm.put("epoch", r.getEpoch());
            mm.put("last_seq", r.getLastSeq());
            mm.put("commit_seq", r.getCommitSeq());
            mm.put("lag_records", r.getLagRecords());
            mm.put("lag_ms", r.getLagMs());
            if (r.getRole() == io.limedb.api.v1.MemberRole.PRIMARY) mm.put("in_sync_replicas", r.getInSyncReplicas());
            if (r.getDiscardedRecords() > 0) mm.put("discarded_records", r.getDiscardedRecords());
            mm.put("pid", r.getPid());
        }
        if (st.reachable()) {
            mm.put("estimated_keys", st.stats().getEstimatedKeys());
            mm.put("sst_bytes", st.stats().getSstFilesBytes());
            mm.put("memtable_bytes", st.stats().getMemtableBytes());
        } else {
            mm.put("error", st.error());
        }
        return mm;
    }

    private static String pathKey(String path, String prefix) {
        String raw = path.substring(prefix.length());
        try {
            return QueryStringDecoder.decodeComponent(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw bad("key in the path is not valid URL encoding: " + e.getMessage());
        }
    }

    private static LimeException bad(String message) {
        return new LimeException(ErrorCode.INVALID_ARGUMENT, message);
    }
}
