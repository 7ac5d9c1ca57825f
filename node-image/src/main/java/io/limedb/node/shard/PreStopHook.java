package io.limedb.node.shard;

import io.limedb.core.topology.Role;
import io.limedb.node.http.HttpServer;
import io.limedb.node.replication.ShardReplication;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /lifecycle/pre-stop}, which Kubernetes calls before it sends SIGTERM to a deleted pod: a
 * primary holds the answer until the operator has moved the primary elsewhere (it fences this member,
 * which steps it down) or until a bound passes, so that the shard does not lose its primary abruptly.
 * Anything else answers at once. The wait is a future: no event loop is held.
 */
final class PreStopHook {
    private static final Logger LOG = LoggerFactory.getLogger(PreStopHook.class);

    private final ShardReplication replication;
    private final long waitMs;

    PreStopHook(ShardReplication replication, long waitMs) {
        this.replication = replication;
        this.waitMs = waitMs;
    }

    HttpServer.Route route() {
        return new HttpServer.Route(HttpMethod.GET, "/lifecycle/pre-stop", r -> preStop());
    }

    private CompletableFuture<HttpServer.Response> preStop() {
        long start = System.nanoTime();
        String id = replication.nodeId();
        boolean primary = replication.role() == Role.PRIMARY;
        if (primary) {
            LOG.info("{}: pre-stop: primary at epoch {}; waiting up to {} ms to be stepped down", id,
                    replication.log().epoch(), waitMs);
        }
        return replication.whenNotPrimary().thenApply(v -> true).completeOnTimeout(false, waitMs, TimeUnit.MILLISECONDS)
                .thenApply(notPrimary -> {
                    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    String role = replication.role().name().toLowerCase(Locale.ROOT);
                    if (!primary) {
                        LOG.info("{}: pre-stop: not the primary ({}); nothing to wait for", id, role);
                    } else if (notPrimary) {
                        LOG.info("{}: pre-stop: stepped down after {} ms (epoch {}, now {}); ready to stop", id, waited,
                                replication.log().epoch(), role);
                    } else {
                        LOG.warn("{}: pre-stop: still primary after {} ms (lifecycle.prestop.wait.ms); stopping anyway", id,
                                waited);
                    }
                    return HttpServer.Response.json(200, Map.of("stepped_down", primary && notPrimary,
                            "was_primary", primary, "waited_ms", waited, "role", role));
                });
    }
}
