package io.limedb.operator.control;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.limedb.operator.crd.LimeCluster;
import java.time.Instant;
import org.jboss.logging.Logger;

/** Kubernetes Events on a LimeCluster ({@code kubectl describe lime NAME}); failures to record are logged only. */
public final class ClusterEvents {
    private static final Logger LOG = Logger.getLogger(ClusterEvents.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final String uid;

    public ClusterEvents(KubernetesClient client, LimeCluster cluster) {
        this.client = client;
        this.namespace = cluster.getMetadata().getNamespace();
        this.name = cluster.getMetadata().getName();
        this.uid = cluster.getMetadata().getUid();
    }

    public void normal(String reason, String message) {
        record("Normal", reason, message);
    }

    public void warning(String reason, String message) {
        record("Warning", reason, message);
    }

    private void record(String type, String reason, String message) {
        String now = Instant.now().toString();
        var ev = new EventBuilder().withNewMetadata().withGenerateName(name + "-").withNamespace(namespace).endMetadata()
                .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(LimeCluster.GROUP + "/" + LimeCluster.VERSION)
                        .withKind("LimeCluster").withName(name).withNamespace(namespace).withUid(uid).build())
                .withType(type).withReason(reason).withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                .withNewSource().withComponent("limedb-operator").endSource()
                .withReportingComponent("limedb-operator").withReportingInstance(System.getenv().getOrDefault("POD_NAME", "local"))
                .build();
        try {
            client.v1().events().inNamespace(namespace).resource(ev).create();
        } catch (RuntimeException e) {
            LOG.debugf("cannot record event %s on %s/%s: %s", reason, namespace, name, e.toString());
        }
    }
}
