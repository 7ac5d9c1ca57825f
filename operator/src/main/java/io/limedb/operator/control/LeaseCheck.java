package io.limedb.operator.control;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.ZonedDateTime;
import org.jboss.logging.Logger;

/**
 * Whether this operator replica holds the leader-election Lease, read at most once a second. Without
 * leader election (no POD_NAMESPACE/POD_NAME in the environment: a local run) it always holds it.
 */
final class LeaseCheck {
    private static final Logger LOG = Logger.getLogger(LeaseCheck.class);
    static final String LEASE = "limedb-operator-lease";

    private final KubernetesClient client;
    private final String namespace;
    private final String identity;
    private long checkedAt;
    private boolean held;

    private LeaseCheck(KubernetesClient client, String namespace, String identity) {
        this.client = client;
        this.namespace = namespace;
        this.identity = identity;
    }

    static LeaseCheck fromEnvironment(KubernetesClient client) {
        String ns = System.getenv("POD_NAMESPACE");
        String pod = System.getenv().getOrDefault("POD_NAME", System.getenv("HOSTNAME"));
        boolean election = !"false".equalsIgnoreCase(System.getenv("LIMEDB_OPERATOR_LEADER_ELECTION"));
        return new LeaseCheck(client, election && ns != null && pod != null ? ns : null, pod);
    }

    synchronized boolean held() {
        if (namespace == null) return true;
        long now = System.nanoTime();
        if (now - checkedAt < 1_000_000_000L) return held;
        checkedAt = now;
        boolean was = held;
        try {
            var lease = client.leases().inNamespace(namespace).withName(LEASE).get();
            held = lease != null && lease.getSpec() != null && identity.equals(lease.getSpec().getHolderIdentity())
                    && fresh(lease.getSpec().getRenewTime(), lease.getSpec().getLeaseDurationSeconds());
        } catch (RuntimeException e) {
            held = false;
        }
        if (held != was) LOG.infof("control loops %s: lease %s/%s %s", held ? "active" : "stopped", namespace, LEASE,
                held ? "held by this replica" : "not held by this replica (" + identity + ")");
        return held;
    }

    private static boolean fresh(ZonedDateTime renewed, Integer durationSeconds) {
        if (renewed == null || durationSeconds == null) return false;
        return renewed.plus(Duration.ofSeconds(durationSeconds)).isAfter(ZonedDateTime.now());
    }
}
